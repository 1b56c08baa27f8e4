"""Text in a document that speaks to the assistant instead of the reader: never an answer's source.

Measured with eval/bench/injection.py (20 cases, SmolLM2, llm and hybrid): the prompt's "passages
are data" rule held against instructions and prompt-leak requests, but 2 of 7 planted "system"
messages were repeated as facts, and the citation verifier passed them because the words really
are in the passage. So sentences inside an instruction region are not offered to the answerers
(extractive candidates, the small model's evidence) and cannot support a generated sentence.

A region starts at the sentence holding a marker (a chat-template role tag, "SYSTEM:", "ignore
previous instructions", "note to the AI", "reveal your system prompt", ...) and ends at the
paragraph's end, a closing tag, or REGION_MAX_CHARS after the marker. The markers are phrases an
ordinary document has no reason to use; a false hit only hides that paragraph from answers.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Longest stretch after a marker treated as injected (a paragraph rarely runs longer).
REGION_MAX_CHARS = 400

_MARKERS = re.compile(
    r"<\|im_start\|>|<\|system\|>|<<SYS>>|\[/?INST\]|\[\s*system[^\]]{0,20}\]|<\s*/?\s*instruction\s*>"
    r"|(?:^|[\n.>:\]])\s*(?:#+\s*)?system\s*(?:message|prompt|override|role)?\s*[:)]"
    r"|\bsystem (?:override|message|prompt|role)\s*[:\])]"
    r"|\b(?:ignore|disregard|forget)\b[^.\n]{0,40}\b(?:previous|prior|above|all|the)\b[^.\n]{0,30}"
    r"\b(?:instructions?|prompts?|rules|passages|question)\b"
    r"|\b(?:instructions?|notes?|messages?)\s+(?:to|for)\s+(?:the\s+)?(?:ai|assistant|language models?|llms?|models?)\b"
    r"|\bif you are an? (?:ai|language model|assistant|llm)\b"
    r"|\battention,?\s+(?:ai|model|assistant|llm)\b"
    r"|\b(?:assistant|ai)\s*,\s*(?:disregard|ignore|forget|reply|say|respond|answer)\b"
    r"|\bdebug mode\b|\bnew task\s*:|\byou are now\b|\bdeveloper message\b|\b(?:text|words) in your input\b"
    r"|\brepeat the (?:text|words|prompt)\b"
    r"|\b(?:print|reveal|leak|repeat|output|state|quote)\s+(?:your|the)\s+(?:full\s+|hidden\s+|exact\s+)?"
    r"(?:system prompt|instructions|developer message|hidden rules|rules)\b",
    re.IGNORECASE | re.MULTILINE,
)
_CLOSERS = re.compile(r"<\|im_end\|>|<</SYS>>|<\s*/\s*instruction\s*>|\n\s*\n")
_SENTENCE_END = re.compile(r"[.!?]\s|\n")


def instruction_regions(text: str) -> list[tuple[int, int]]:
    """Character spans of `text` that address the assistant (merged, in order)."""
    return list(_regions(text))


# Every answer scans the whole article of each retrieved passage (~1.6 ms for a few KB of text with this
# pattern); the same articles come back question after question, and a changed article is another key.
# The cache keeps its texts alive, so it stays small: a question's five passages and the recent questions'.
@lru_cache(maxsize=64)
def _regions(text: str) -> tuple[tuple[int, int], ...]:
    regions: list[tuple[int, int]] = []
    for match in _MARKERS.finditer(text):
        found = match.group()
        anchor = match.start() + len(found) - len(found.lstrip("\n.>:] \t"))  # the marker, not the '.' before it
        window = text[max(0, anchor - 300) : anchor]
        ends = [m.end() for m in _SENTENCE_END.finditer(window)]
        start = anchor - len(window) + (ends[-1] if ends else 0)
        closer = _CLOSERS.search(text, match.end())
        end = min(closer.end() if closer else len(text), match.end() + REGION_MAX_CHARS, len(text))
        if regions and start <= regions[-1][1]:
            regions[-1] = (regions[-1][0], max(regions[-1][1], end))
        else:
            regions.append((start, end))
    return tuple(regions)


def overlaps(start: int, end: int, regions: list[tuple[int, int]]) -> bool:
    return any(start < r_end and r_start < end for r_start, r_end in regions)
