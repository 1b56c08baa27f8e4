"""The read mode end to end with the real reader: Qwen2.5-Coder-1.5B-Instruct in the real llama.cpp server on
127.0.0.1 (started and stopped here), the real openai client, index, evidence model and verifier.

The model runs at temperature 0; the tests assert what every read answer must be (the short answer stated
in the quoted sentence, the quote the exact source span) and what the path must do around the model
(refuse what does not stand, fall back when the model dies), not the model's wording beyond the gold
answer of an easy question.
"""

from __future__ import annotations

import importlib.util
import os
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from rag.answer.answer_match import states
from rag.answer.reader import ReaderCutoffs
from rag.llm.server import LocalLLMServer
from rag.llm.supervisor import local_llm_settings, start_local_llm
from rag.models import AnswerMode, AskRequest, Progress
from rag.service.assistant import Assistant
from rag.settings import Settings
from tests.answer.sample_hits import assert_citation_exact

pytestmark = [
    pytest.mark.llm,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                       reason="llama-cpp-python is not installed: run `make local-llm`"),
]


@pytest.fixture(scope="module")
def reader_settings(sample_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[LocalLLMServer, Settings]]:
    # Every question goes to the reader: what is tested is the reader's path, not the cut-offs that decide
    # how often it is taken (learned by `rag eval train-reader`).
    always = tmp_path_factory.mktemp("cutoffs") / "always.json"
    ReaderCutoffs(refuse_below=0.0, extractive_above=1.01, min_sentence_prob=0.0).save(always)
    server = start_local_llm(sample_settings, port=0)
    with server:
        yield server, local_llm_settings(sample_settings, server).model_copy(update={"reader_cutoffs_path": always})


@pytest.fixture(scope="module")
def assistant(reader_settings: tuple[LocalLLMServer, Settings], embedder) -> Iterator[Assistant]:  # noqa: ANN001
    a = Assistant(reader_settings[1], embedder=embedder)
    yield a
    a.close()


def test_a_read_answer_names_the_answer_and_quotes_the_sentence_it_stands_on(assistant: Assistant) -> None:
    items = list(assistant.stream(AskRequest(question="who chaired the yangpu quarterly work meeting?",
                                             mode=AnswerMode.READ)))
    assert any(isinstance(i, Progress) and i.stage == "reading" for i in items)  # the page shows it while it reads
    answer = items[-1]
    assert answer.mode == "read" and not answer.refused, answer
    assert answer.diagnostics.route == "reader" and answer.diagnostics.reader_answer
    assert "Xue Kan" in answer.answer
    assert len(answer.citations) == 1 and answer.citations[0].verified
    citation = answer.citations[0]
    assert_citation_exact(citation, assistant.snapshot.article(citation.doc_id))
    assert states(answer.diagnostics.reader_answer, citation.quote, answer.question)
    assert answer.timings_ms["reader"] > 0 and answer.timings_ms["total"] >= answer.timings_ms["reader"]


def test_an_answer_the_passages_do_not_state_is_refused_with_the_closest_passages(assistant: Assistant) -> None:
    # The sample never gives the mayor's age: the reader names one anyway, and no shown sentence states it.
    answer = assistant.ask(AskRequest(question="How old is Mayor Gong Zheng?", mode=AnswerMode.READ))
    assert answer.refused and answer.mode == "read", answer
    assert answer.closest and answer.diagnostics.route == "reader" and answer.diagnostics.reader_answer
    assert not answer.citations


def test_twenty_concurrent_questions_all_get_an_answer(reader_settings: tuple[LocalLLMServer, Settings],
                                                       embedder) -> None:  # noqa: ANN001
    """One reader call at a time and two waiting: the other questions are answered extractively at once, with a
    note, instead of queueing for minutes; none fails."""
    _, settings = reader_settings
    a = Assistant(settings.model_copy(update={"reader_concurrency": 1, "reader_queue": 2}), embedder=embedder)
    questions = ["Who chaired the Yangpu quarterly work meeting?", "How many exhibitors took part in the Old Expo?",
                 "When did the Arc'teryx Museum store open?", "Where is Aokangda Car Plaza located?"] * 5
    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(pool.map(lambda q: a.ask(AskRequest(question=q, mode=AnswerMode.READ)), questions))
    finally:
        a.close()
    assert len(answers) == 20
    busy = [x for x in answers if x.mode == "fallback"]
    read = [x for x in answers if x.mode == "read"]
    assert read and busy, [x.mode for x in answers]
    assert len(read) + len(busy) == 20
    assert all(any("reader was not asked" in n for n in x.notes) for x in busy)


# Last: it kills the module's server.
def test_a_dead_reader_gives_the_extractive_answer_with_a_note(reader_settings: tuple[LocalLLMServer, Settings],
                                                              embedder) -> None:  # noqa: ANN001
    server, settings = reader_settings
    a = Assistant(settings, embedder=embedder)
    try:
        pid = server.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        assert server.wait_exit(10) is not None
        answer = a.ask(AskRequest(question="How many exhibitors took part in the Old Expo?", mode=AnswerMode.READ))
    finally:
        a.close()
    assert answer.mode == "fallback", answer
    assert answer.diagnostics.endpoint_failed
    assert any("reader failed" in n for n in answer.notes), answer.notes
    assert not answer.refused and answer.citations and all(c.verified for c in answer.citations)
