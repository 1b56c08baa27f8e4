"""The LLM path of the question flow (LLMAnswerer composing) against a real HTTP endpoint speaking the OpenAI chat-completions protocol.

The endpoint is a tiny stdlib HTTP server in a thread (a stand-in for an external service such as
llama.cpp or a hosted API), so the real `openai` client, timeouts, retries and streaming are exercised.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rag.answer.llm import LLMAnswerer
from rag.service.ask import QuestionPath
from rag.cite.verify import CitationVerifier
from rag.models import Answer, AnswerMode
from tests.answer.sample_hits import assert_citation_exact, retrieve

DEV01 = "How many new first-office stores opened in Shanghai last year?"
REPLY = "Shanghai opened 1,215 new first-office stores last year [1]. Nobody counted the others [7]."


class FakeEndpoint:
    def __init__(self, reply: str, status: int = 200) -> None:
        self.reply, self.status, self.requests = reply, status, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep pytest output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                if outer.status != 200:
                    self.send_response(outer.status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"error": {"message": "boom"}}')
                    return
                self.send_response(200)
                if body.get("stream"):
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    for word in outer.reply.split(" "):
                        chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                                 "choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}]}
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.write(b"data: [DONE]\n\n")
                    return
                msg = {"id": "c", "object": "chat.completion", "created": 0, "model": body["model"],
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": outer.reply},
                                    "finish_reason": "stop"}]}
                data = json.dumps(msg).encode()
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()



class LLMFlow:
    """The flow in llm mode, called like an answerer."""

    def __init__(self, flow: QuestionPath) -> None:
        self.flow = flow

    def answer(self, question, hits, articles):  # noqa: ANN001, ANN201
        return self.flow.answer(question, hits, articles, AnswerMode.LLM, stream_llm=False)

    def stream_answer(self, question, hits, articles):  # noqa: ANN001, ANN201
        return self.flow.stream(question, hits, articles, AnswerMode.LLM)


def _answerer(settings, embedder, url: str) -> LLMFlow:  # noqa: ANN001
    s = settings.model_copy(update={"llm_base_url": url, "llm_model": "test-model", "llm_timeout_s": 5, "llm_max_retries": 0})
    return LLMFlow(QuestionPath(s, embedder))


def test_answer_from_endpoint_is_verified(sample_settings, embedder, snapshot):
    server = FakeEndpoint(REPLY)
    try:
        hits = retrieve(snapshot, embedder, sample_settings, DEV01)
        ans = _answerer(sample_settings, embedder, server.url).answer(DEV01, hits, snapshot.article)
    finally:
        server.close()
    sent = server.requests[0]
    assert sent["model"] == "test-model" and sent["temperature"] == 0 and not sent.get("stream")
    assert "[1] (title:" in sent["messages"][1]["content"] and sent["messages"][0]["role"] == "system"
    assert ans.mode == "llm" and not ans.refused
    assert ans.diagnostics.invalid_citation_numbers == 1 and ans.diagnostics.dropped_sentences == 1
    assert ans.answer == "Shanghai opened 1,215 new first-office stores last year. [1]"
    assert_citation_exact(ans.citations[0], snapshot.article(ans.citations[0].doc_id))


def test_stream_yields_deltas_then_the_verified_answer(sample_settings, embedder, snapshot):
    server = FakeEndpoint(REPLY)
    try:
        hits = retrieve(snapshot, embedder, sample_settings, DEV01)
        items = list(_answerer(sample_settings, embedder, server.url).stream_answer(DEV01, hits, snapshot.article))
    finally:
        server.close()
    assert server.requests[0]["stream"] is True
    *deltas, final = items
    assert len(deltas) > 3 and all(isinstance(d, str) for d in deltas)
    assert "".join(deltas).strip() == REPLY
    assert isinstance(final, Answer) and final.mode == "llm" and final.citations[0].verified


@pytest.mark.parametrize("status", [500, None])
def test_failing_endpoint_falls_back_to_extractive(sample_settings, embedder, snapshot, status):
    server = FakeEndpoint(REPLY, status=status or 200)
    url = server.url if status else "http://127.0.0.1:9/v1"  # None: nothing listens (connection refused)
    try:
        hits = retrieve(snapshot, embedder, sample_settings, DEV01)
        t0 = time.perf_counter()
        ans = _answerer(sample_settings, embedder, url).answer(DEV01, hits, snapshot.article)
    finally:
        server.close()
    assert time.perf_counter() - t0 < 10
    assert ans.mode == "fallback" and not ans.refused
    assert "endpoint failed" in ans.notes[0] and "extracted from the passages" in ans.notes[0]
    assert ans.diagnostics.endpoint_failed  # the API then waits briefly for a dying local server's exit status
    assert "1,215" in ans.answer and ans.citations[0].verified


def test_weak_evidence_is_refused_without_calling_the_model(sample_settings, embedder, snapshot):
    server = FakeEndpoint("The 2024 Shanghai Marathon was won by Li Wei [1].")
    try:
        q = "Who won the 2024 Shanghai Marathon?"
        ans = _answerer(sample_settings, embedder, server.url).answer(q, retrieve(snapshot, embedder, sample_settings, q), snapshot.article)
    finally:
        server.close()
    assert ans.refused and server.requests == []


def test_no_endpoint_is_a_clear_error(sample_settings, embedder):
    s = sample_settings.model_copy(update={"llm_base_url": None})
    with pytest.raises(ValueError, match="OPENAI_BASE_URL"):
        LLMAnswerer(s, CitationVerifier(embedder))
