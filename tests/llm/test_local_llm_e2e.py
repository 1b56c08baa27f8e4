"""Offline generation end to end: the real llama.cpp server (the reader model) started on 127.0.0.1 by
the test, the real `openai` client inside LLMAnswerer, the real citation verifier and index.

The model is small and runs at temperature 0, so its replies are deterministic on one build; the
tests assert properties every reply must have (verified, exact citations; invented figures never
shown as supported), never the model's wording.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.answer.evidence_model import load_model
from rag.service.ask import QuestionPath
from rag.llm.supervisor import local_llm_session, local_llm_settings, start_local_llm
from rag.llm.server import LocalLLMServer
from rag.cite.terms import extract_key_terms
from rag.models import Answer, AnswerMode, AskRequest
from rag.net import free_port
from rag.settings import Settings
from tests.answer.sample_hits import assert_citation_exact, hits_containing, retrieve
from tests.conftest import seeds

pytestmark = [
    pytest.mark.llm,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                       reason="llama-cpp-python is not installed: run `make local-llm`"),
]

# Seed questions the extractive answerer gets right (tests/answer/test_seeds_dev.py), so retrieval
# is not what is being tested here.
SEED_IDS = ("dev-02", "dev-04", "dev-06")
# A passage that names the Arc'teryx Museum store but gives no founding year: asked for one, the
# model guesses. The evidence refusal would (rightly) stop the question before the model sees it, so
# these tests switch it off: what is tested is the verifier's catch, after generation.
NO_YEAR_PASSAGES = ["Arc'teryx Museum store"]
GUESS_QUESTION = "In which year was the Arc'teryx Museum store founded?"


def no_refusal_model():  # noqa: ANN201
    """The shipped evidence model with its refusal threshold at 0: every question reaches the LLM."""
    return dataclasses.replace(load_model(), threshold=0.0)


def server_pids(port: int) -> list[int]:
    """Processes running `llama_cpp.server` on this port, read from /proc (exact, no process names)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"llama_cpp.server" in args and b"--port" in args and args[args.index(b"--port") + 1] == str(port).encode():
            pids.append(int(entry.name))
    return pids


def port_of(settings: Settings) -> int:
    match = re.search(r":(\d+)/", settings.llm_base_url or "")
    assert match, settings.llm_base_url
    return int(match.group(1))


@pytest.fixture(scope="module")
def local(sample_settings: Settings) -> Iterator[tuple[LocalLLMServer, Settings]]:
    server = start_local_llm(sample_settings, port=0)
    with server:
        yield server, local_llm_settings(sample_settings, server)
    assert not server_pids(server.port), "the llama.cpp server outlived its context"


@pytest.fixture(scope="module")
def answerer(local: tuple[LocalLLMServer, Settings], embedder) -> QuestionPath:  # noqa: ANN001
    _, settings = local
    # These tests are about generation, streaming and verification: the evidence refusal (tested in
    # tests/answer/test_flow.py) must not stop a question before the model sees it.
    return QuestionPath(settings, embedder, model=no_refusal_model())



def assert_grounded(answer: Answer, snapshot) -> None:  # noqa: ANN001
    """Every shown sentence cites at least one verified citation whose quote is the exact article span."""
    assert not answer.refused
    assert answer.sentences and answer.citations
    by_n = {c.n: c for c in answer.citations}
    for sentence in answer.sentences:
        assert sentence.supported and sentence.citations
        assert all(by_n[n].verified for n in sentence.citations)
    for citation in answer.citations:
        assert_citation_exact(citation, snapshot.article(citation.doc_id))


def test_settings_point_the_openai_client_at_the_local_server(local: tuple[LocalLLMServer, Settings]) -> None:
    server, settings = local
    assert settings.llm_base_url == server.base_url and settings.llm_base_url.startswith("http://127.0.0.1:")
    assert settings.llm_model == server.model_alias and settings.local_llm
    assert settings.llm_temperature == 0 and settings.llm_timeout_s == settings.local_llm_timeout_s
    assert settings.auto_mode == settings.local_llm_auto_mode  # the measured default, not the remote one
    with pytest.raises(ValueError, match="local_llm_auto_mode"):
        Settings(local_llm_auto_mode="gpt")
    assert server_pids(server.port) == [server.pid]


def test_non_streaming_call_through_the_answerer(answerer: QuestionPath, snapshot, embedder,  # noqa: ANN001
                                                  sample_settings: Settings) -> None:
    q = next(s for s in seeds() if s["id"] == "dev-02")["question"]
    hits = retrieve(snapshot, embedder, sample_settings, q)
    answer = answerer.answer(q, hits, snapshot.article, AnswerMode.LLM, stream_llm=False)
    assert answer.mode in ("llm", "fallback")
    assert int(answer.diagnostics.llm_sentences or 0) >= 1, "the model wrote nothing"
    assert_grounded(answer, snapshot)


def test_streaming_call_yields_text_then_a_verified_answer(answerer: QuestionPath, snapshot, embedder,  # noqa: ANN001
                                                           sample_settings: Settings) -> None:
    q = next(s for s in seeds() if s["id"] == "dev-04")["question"]
    hits = retrieve(snapshot, embedder, sample_settings, q)
    items = list(answerer.stream(q, hits, snapshot.article, AnswerMode.LLM))
    deltas, final = items[:-1], items[-1]
    assert len(deltas) >= 2 and all(isinstance(d, str) for d in deltas), "the reply did not arrive in pieces"
    assert isinstance(final, Answer)
    assert (final.diagnostics.llm_sentences or 0) >= 1
    assert_grounded(final, snapshot)


def test_three_seed_answers_carry_verified_citations(local: tuple[LocalLLMServer, Settings], embedder,  # noqa: ANN001
                                                    snapshot) -> None:
    from rag.service.assistant import Assistant

    _, settings = local
    assistant = Assistant(settings, embedder=embedder)
    assistant.path = QuestionPath(settings, embedder, model=no_refusal_model())  # generation is tested, not refusal
    try:
        answers = [assistant.ask(AskRequest(question=s["question"], mode=AnswerMode.LLM)) for s in seeds() if s["id"] in SEED_IDS]
    finally:
        assistant.close()
    assert len(answers) == 3
    for answer in answers:
        assert_grounded(answer, snapshot)
    # The point is generated answers: the model's own sentences must survive on most of them.
    assert sum(a.mode == "llm" for a in answers) >= 2, [a.mode for a in answers]


def _generate_and_verify(settings: Settings, embedder, snapshot, question: str,  # noqa: ANN001
                         needles: list[str]) -> tuple[str, list, Answer]:  # noqa: ANN001
    answerer = QuestionPath(settings, embedder, model=no_refusal_model())
    hits = hits_containing(snapshot, embedder, question, needles)
    *deltas, final = answerer.stream(question, hits, snapshot.article, AnswerMode.LLM)
    assert isinstance(final, Answer)
    return "".join(d for d in deltas if isinstance(d, str)), hits, final


def test_invented_number_is_caught_and_never_shown(local: tuple[LocalLLMServer, Settings], embedder,  # noqa: ANN001
                                                   snapshot) -> None:
    raw, hits, final = _generate_and_verify(local[1], embedder, snapshot, GUESS_QUESTION, NO_YEAR_PASSAGES)
    seen = " ".join(h.passage.text for h in hits)  # the model's numbers may only come from these texts
    invented = {t for t in extract_key_terms(raw) if any(ch.isdigit() for ch in t) and t not in seen}
    assert invented, f"the model did not guess a number this time, so nothing is tested: {raw!r}"
    shown = " ".join(s.text for s in final.sentences)
    assert not any(t in extract_key_terms(shown) for t in invented), (raw, final.answer)
    assert final.diagnostics.dropped_sentences >= 1
    assert final.mode == "fallback" or (final.diagnostics.llm_sentences or 0) > final.diagnostics.dropped_sentences
    if not final.refused:
        assert_grounded(final, snapshot)  # what is shown instead stands on verified quotes


def test_real_number_on_the_wrong_noun_is_caught(local: tuple[LocalLLMServer, Settings], embedder,  # noqa: ANN001
                                                 snapshot) -> None:
    question = "How many floors does the Arc'teryx Museum store have?"
    raw, hits, final = _generate_and_verify(local[1], embedder, snapshot, question, NO_YEAR_PASSAGES)
    assert "floor" in raw.casefold(), f"precondition: the model must claim a floor count: {raw!r}"
    assert not any("floor" in s.text.casefold() for s in final.sentences), final.answer


def test_server_is_gone_after_a_failing_block(sample_settings: Settings) -> None:
    port = None
    with pytest.raises(RuntimeError, match="boom"):
        with local_llm_session(sample_settings, port=0) as settings:
            port = port_of(settings)
            assert server_pids(port)
            raise RuntimeError("boom")
    assert port is not None and not server_pids(port)
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "something still listens on the model's port"


def _timed(answerer: QuestionPath, question: str, hits, articles, stream: bool) -> tuple[Answer, float]:  # noqa: ANN001
    t0 = time.perf_counter()
    *_, final = answerer.stream(question, hits, articles, AnswerMode.LLM, stream_llm=stream)
    assert isinstance(final, Answer)
    return final, time.perf_counter() - t0


@pytest.mark.parametrize("stream", [False, True])
def test_dead_endpoint_falls_back_to_extractive(sample_settings: Settings, embedder, snapshot,  # noqa: ANN001
                                                stream: bool) -> None:
    settings = sample_settings.model_copy(update={
        "llm_base_url": f"http://127.0.0.1:{free_port()}/v1", "llm_model": "x", "local_llm": True,
        "llm_timeout_s": 3.0, "llm_max_retries": 0})
    answerer = QuestionPath(settings, embedder, model=no_refusal_model())
    q = next(s for s in seeds() if s["id"] == "dev-02")["question"]
    hits = retrieve(snapshot, embedder, sample_settings, q)
    final, seconds = _timed(answerer, q, hits, snapshot.article, stream)
    assert final.mode == "fallback" and "could not connect" in final.notes[0]
    assert_grounded(final, snapshot)
    assert seconds < settings.llm_timeout_s + 10  # connection refused is immediate; the rest is extractive work


@pytest.mark.parametrize("stream", [False, True])
def test_hanging_endpoint_falls_back_within_the_timeout(local: tuple[LocalLLMServer, Settings], embedder,  # noqa: ANN001
                                                        snapshot, sample_settings: Settings, stream: bool) -> None:
    server, settings = local
    settings = settings.model_copy(update={"llm_timeout_s": 2.0})
    answerer = QuestionPath(settings, embedder, model=no_refusal_model())
    q = next(s for s in seeds() if s["id"] == "dev-04")["question"]
    hits = retrieve(snapshot, embedder, sample_settings, q)
    assert server.pid is not None
    os.kill(server.pid, signal.SIGSTOP)  # the real server, frozen: it accepts nothing and answers nothing
    try:
        final, seconds = _timed(answerer, q, hits, snapshot.article, stream)
    finally:
        os.kill(server.pid, signal.SIGCONT)
    assert final.mode == "fallback" and "timed out" in final.notes[0]
    assert_grounded(final, snapshot)
    # Waited for the timeout (not a quicker error), and not much longer than it.
    assert settings.llm_timeout_s * 0.9 < seconds < settings.llm_timeout_s + 10


def test_rag_ask_local_llm_cli_leaves_no_server(sample_settings: Settings) -> None:
    """`rag ask --local-llm` starts the model for one question and stops it before exiting."""
    import json
    import subprocess
    import sys

    import uuid

    # The model server inherits the CLI's environment: a mark only this run carries finds the servers
    # our CLI started, whatever other jobs on a shared machine start meanwhile.
    mark = f"rag-test-{uuid.uuid4().hex}"
    env = {**os.environ, "RAG_INDEX_DIR": str(sample_settings.index_dir), "RAG_COLLECTION": sample_settings.collection,
           "RAG_TEST_PROCESS_MARK": mark}
    q = next(s for s in seeds() if s["id"] == "dev-06")["question"]
    rag = Path(sys.executable).parent / "rag"  # the console script `pip install -e .` made
    done = subprocess.run([str(rag), "ask", q, "--local-llm", "--mode", "hybrid", "--json"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    answer = Answer.model_validate(json.loads(done.stdout))
    assert answer.mode in ("hybrid", "fallback") and answer.citations and all(c.verified for c in answer.citations)
    assert not _marked_server_pids(mark), "rag ask --local-llm left its model server running"


def _marked_server_pids(mark: str) -> list[int]:
    """llama.cpp servers whose environment carries `mark` (started by our process tree)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (b"llama_cpp.server" in (entry / "cmdline").read_bytes().split(b"\0")
                        and f"RAG_TEST_PROCESS_MARK={mark}".encode() in (entry / "environ").read_bytes().split(b"\0")):
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids
