"""OpenAI-compatible replies carry token usage and refusals in `message.refusal`; /favicon.ico is served."""

from __future__ import annotations

import openai
import pytest

ARC = "Where is the Arc'teryx Museum store located?"
MARS = "What is the boiling point of liquid nitrogen on Mars?"


@pytest.fixture(scope="module")
def oai(server_url):
    return openai.OpenAI(base_url=f"{server_url}/v1", api_key="unused", max_retries=0, timeout=120)


def test_usage_counts_the_embedding_models_word_pieces(oai, embedder):
    resp = oai.chat.completions.create(model="rag", messages=[{"role": "user", "content": ARC}])
    text = resp.choices[0].message.content
    assert resp.choices[0].message.refusal is None
    u = resp.usage
    assert u.prompt_tokens == embedder.count_tokens(ARC) - 2  # [CLS] and [SEP] are not counted
    assert u.completion_tokens == embedder.count_tokens(text) - 2 > 0
    assert u.total_tokens == u.prompt_tokens + u.completion_tokens


def test_refusal_in_message_refusal_and_text(oai):
    resp = oai.chat.completions.create(model="rag", messages=[{"role": "user", "content": MARS}])
    message = resp.choices[0].message
    assert message.refusal and message.content.startswith(message.refusal)
    assert resp.model_extra["rag"]["refused"] is True


def test_streamed_refusal_delta_and_usage_chunk(oai):
    stream = oai.chat.completions.create(model="rag", messages=[{"role": "user", "content": MARS}], stream=True,
                                         stream_options={"include_usage": True})
    chunks = list(stream)
    refusal = "".join(c.choices[0].delta.refusal or "" for c in chunks if c.choices)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert refusal and text.startswith(refusal)
    last = chunks[-1]
    assert last.choices == [] and last.usage.completion_tokens > 0
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    plain = oai.chat.completions.create(model="rag", messages=[{"role": "user", "content": MARS}], stream=True)
    assert all(c.usage is None for c in plain), "usage only when the request asks for it, as OpenAI does"


def test_favicon(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"] == "image/x-icon"
    assert r.content[:4] == b"\x00\x00\x01\x00"  # an ICO header
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg.text.startswith("<svg")
    assert 'rel="icon"' in client.get("/").text
