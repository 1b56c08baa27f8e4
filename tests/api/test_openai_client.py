"""The official openai client against a real uvicorn server: /v1/chat/completions, streaming and not."""

from __future__ import annotations

import openai
import pytest

ARC = "Where is the Arc'teryx Museum store located?"


@pytest.fixture(scope="module")
def oai(server_url):
    return openai.OpenAI(base_url=f"{server_url}/v1", api_key="unused", max_retries=0, timeout=120)


def test_chat_completion(oai):
    resp = oai.chat.completions.create(model="rag", messages=[{"role": "user", "content": ARC}])
    text = resp.choices[0].message.content
    assert resp.choices[0].finish_reason == "stop"
    assert "Nanjing West Road" in text and "[1]" in text and "Sources:" in text
    extra = resp.model_extra
    assert extra["citations"] and extra["citations"][0]["n"] == 1 and extra["citations"][0]["quote"]
    assert extra["rag"]["refused"] is False


def test_chat_completion_streaming(oai):
    stream = oai.chat.completions.create(model="rag", messages=[{"role": "user", "content": ARC}], stream=True)
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "Nanjing West Road" in text and "Sources:" in text
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.model_extra["citations"], "structured citations ride on the final chunk"


def test_chat_multi_turn_and_errors(oai):
    resp = oai.chat.completions.create(model="rag", messages=[
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": ARC},
        {"role": "assistant", "content": "In the Nanjing West Road business district [1]."},
        {"role": "user", "content": "and when did it open?"},
    ])
    assert "Arc'teryx" in (resp.model_extra["rag"]["rewritten_question"] or "")
    with pytest.raises(openai.UnprocessableEntityError):
        oai.chat.completions.create(model="rag", messages=[{"role": "assistant", "content": "no question"}])
    with pytest.raises(openai.NotFoundError):
        oai.chat.completions.create(model="gpt-nonexistent", messages=[{"role": "user", "content": ARC}])
    assert {m.id for m in oai.models.list()} >= {"rag"}
