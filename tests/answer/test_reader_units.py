"""The reader's decisions that need no model: answer matching, reply cleaning, the bounded gate, the route."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from rag.answer.answer_match import fold, states
from rag.answer.citations import SentenceSpan
from rag.answer.features import Candidates
from rag.answer.flow import Evidence
from rag.answer.reader import (
    QUOTE_WORDS,
    ReaderBusy,
    ReaderCutoffs,
    ReaderGate,
    clean_reply,
    quote_window,
    route,
    standing_sentence,
)
from rag.models import Hit, Passage


def test_folding_reads_numbers_months_and_separators_alike() -> None:
    assert fold("1,215 stores") == fold("1215 store")
    assert fold("four halls") == fold("4 hall")
    assert fold("Sept. 5th") == fold("September 5")
    assert fold("12%") == fold("12 percent")


@pytest.mark.parametrize(("answer", "sentence", "question", "stands"), [
    ("four", "one of the 4 flagship stores opened by JD", "How many flagship stores has JD opened?", True),
    ("1,215", "Shanghai added 1215 first stores last year.", "How many first stores opened?", True),
    ("the Hongqiao Business District", "Located in Hongqiao Business District, it sells cars.", "Where is it?", True),
    # the answer repeats the question: it states nothing
    ("JD", "one of the four flagship stores opened by JD", "How many flagship stores has JD opened?", False),
    # a word the sentence does not have
    ("five", "one of the four flagship stores opened by JD", "How many flagship stores has JD opened?", False),
    ("", "anything", "anything?", False),
])
def test_an_answer_stands_only_on_a_sentence_that_states_all_of_it(answer: str, sentence: str, question: str,
                                                                    stands: bool) -> None:
    assert states(answer, sentence, question) is stands


@pytest.mark.parametrize(("reply", "short"), [
    ("Answer: Gong Zheng.", "Gong Zheng"),
    ("\"May 5th Shopping Festival\" [2]\nBecause sentence 2 says so.", "May 5th Shopping Festival"),
    ("  The answer is: 1,215 ", "1,215"),
    ("", ""),
])
def test_a_reply_is_cleaned_to_its_short_answer(reply: str, short: str) -> None:
    assert clean_reply(reply) == short


def _span(i: int, text: str) -> SentenceSpan:
    return SentenceSpan(hit_index=0, doc_id="d", start=i * 100, end=i * 100 + len(text), text=text)


def test_the_answer_must_be_the_kind_asked_and_its_sentence_score_enough() -> None:
    shown = [(0, _span(0, "The Old Expo drew 400 first stores."), 0.08),
             (1, _span(1, "Shanghai added 1,215 first stores in 2023."), 0.6)]
    q = "How many first stores opened in Shanghai in 2023?"
    assert standing_sentence("1,215", q, shown, "number", 0.0)[0].start == 100
    assert standing_sentence("400", q, shown, "number", 0.0)[0].start == 0  # words occur: only the score can stop it
    assert standing_sentence("400", q, shown, "number", 0.1) is None  # ... and does
    assert standing_sentence("stores", q, shown, "number", 0.0) is None  # not a number
    other = [(0, _span(0, "The Old Expo attracted 400 exhibitors."), 0.5)]
    assert standing_sentence("400", q, other, "number", 0.0) is None  # it counts exhibitors, not stores
    listed = [(0, _span(0, "2. Send opinions to the office at People's Avenue."), 0.5)]
    assert standing_sentence("2", "How many opinions were sent?", listed, "number", 0.0) is None  # a list number


def _evidence(answerability: float | None, question: str = "Who chaired it?") -> tuple[list[Hit], Evidence]:
    span = _span(0, "Xue Kan chaired the meeting.")
    cands = Candidates(spans=[span], x=np.zeros((1, 1), dtype=np.float32), kind="person")
    probs = np.array([0.5])
    hit = Hit(passage=Passage(chunk_id="c", doc_id="d", source="s", title="t", text=span.text, start=0, end=28), score=1.0)
    return [hit], Evidence(question, cands, probs, np.array([0]), answerability)


@pytest.mark.parametrize(("answerability", "way", "refused"), [
    (None, "refuse", True), (0.05, "refuse", True), (0.5, "reader", False), (0.95, "extractive", False)])
def test_the_scorer_confidence_routes_a_read_question(answerability: float | None, way: str, refused: bool) -> None:
    cut = ReaderCutoffs(refuse_below=0.1, extractive_above=0.9, min_sentence_prob=0.0)
    hits, ev = _evidence(answerability)
    trace, got = route(hits, ev, cut, ev.question)
    assert (got, trace.refused) == (way, refused)


def test_between_the_check_and_extractive_cutoffs_the_reader_checks() -> None:
    cut = ReaderCutoffs(refuse_below=0.1, extractive_above=0.9, min_sentence_prob=0.0, check_above=0.4)
    hits, ev = _evidence(0.5)
    assert route(hits, ev, cut, ev.question)[1] == "check"
    hits, ev = _evidence(0.3)
    assert route(hits, ev, cut, ev.question)[1] == "reader"


def test_a_question_in_two_parts_stays_with_the_extractive_composer() -> None:
    cut = ReaderCutoffs(refuse_below=0.1, extractive_above=0.9, min_sentence_prob=0.0)
    hits, ev = _evidence(0.5, "Who chaired the meeting and when was it held?")
    assert route(hits, ev, cut, ev.question)[1] == "extractive"


def test_the_gate_turns_away_what_its_queue_cannot_hold() -> None:
    gate = ReaderGate(concurrency=1, queue=1, wait_s=5)
    release = threading.Event()
    results: list[str] = []

    def hold() -> None:
        with gate:
            release.wait(5)
            results.append("held")

    def wait_turn() -> None:
        try:
            with gate:
                results.append("waited")
        except ReaderBusy:
            results.append("busy")

    first = threading.Thread(target=hold)
    first.start()
    time.sleep(0.1)
    second = threading.Thread(target=wait_turn)
    second.start()  # waits: the queue holds one
    time.sleep(0.1)
    with pytest.raises(ReaderBusy, match="busy"):
        with gate:  # the third is turned away at once
            pass
    release.set()
    first.join(5)
    second.join(5)
    assert sorted(results) == ["held", "waited"]


def test_a_turn_not_given_in_time_is_busy() -> None:
    gate = ReaderGate(concurrency=1, queue=4, wait_s=0.2)
    with gate:
        started = time.perf_counter()
        with pytest.raises(ReaderBusy, match="within"):
            with gate:
                pass
        assert time.perf_counter() - started < 2


def test_shipped_cutoffs_load_and_a_broken_file_says_what_to_do(tmp_path) -> None:  # noqa: ANN001
    cut = ReaderCutoffs.load()
    assert 0 <= cut.refuse_below < cut.extractive_above
    bad = tmp_path / "cut.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(ValueError, match="train-reader"):
        ReaderCutoffs.load(bad)


def test_a_long_sentence_is_quoted_as_the_clause_that_states_the_reply() -> None:
    sentence = ("The meeting emphasized that each pilot city should further improve the implementation plan, "
                "establish and improve the work promotion and guarantee mechanism, and continuously improve the "
                "work style, work synergy and work effectiveness, according to the notice issued on Monday.")
    assert len(sentence.split()) > QUOTE_WORDS
    s, e = quote_window(sentence, "work synergy", "which work things should keep improving")
    quote = sentence[s:e]
    assert "work synergy" in quote and len(quote.split()) <= QUOTE_WORDS
    short = "Shanghai received 1,215 new first-office stores last year."
    assert quote_window(short, "1,215", "how many first office stores") == (0, len(short))
