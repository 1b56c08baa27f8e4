"""Parsing server-sent events as a client sees them, event by event."""

from __future__ import annotations

import json


def sse_events(text: str) -> list[tuple[str, str]]:
    """(event, data) pairs of a server-sent-events body, in order (comments skipped)."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        event, data = "message", []
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                event = value
            elif field == "data":
                data.append(value)
        if data:
            events.append((event, "\n".join(data)))
    return events


def parse_answer_stream(text: str) -> tuple[list[str], list[dict], dict]:
    """(delta texts, sentence events, final answer); asserts the event order is delta* sentence* answer."""
    events = sse_events(text)
    assert events, "empty stream"
    names = [e for e, _ in events]
    assert names[-1] == "answer", f"the stream must end with the answer, got {names[-3:]}"
    assert "error" not in names, text[-500:]
    first_sentence = names.index("sentence") if "sentence" in names else len(names) - 1
    assert all(n == "delta" for n in names[:first_sentence])
    assert all(n == "sentence" for n in names[first_sentence:-1])
    deltas = [json.loads(d)["text"] for e, d in events if e == "delta"]
    sentences = [json.loads(d) for e, d in events if e == "sentence"]
    return deltas, sentences, json.loads(events[-1][1])
