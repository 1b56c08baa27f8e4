"""Per-question answer and citation scoring, and run-level aggregation, on hand-built Answers."""

from __future__ import annotations

import pytest

from eval.adapters.base import EvalQuestion
from eval.scoring import aggregate, plain_answer, score_answer
from rag.models import Answer, AnswerSentence, Citation


def _cite(n: int, quote: str, verified: bool, chunk: str = "c1") -> Citation:
    return Citation(n=n, chunk_id=chunk, doc_id="d", title="t", date=None, source="s", start=0, end=len(quote),
                    quote=quote, verified=verified)


def _answer(text: str, sentences: list[AnswerSentence], cites: list[Citation], refused: bool = False) -> Answer:
    return Answer(question="q", answer=text, refused=refused, mode="extractive", sentences=sentences, citations=cites)


SEED = EvalQuestion(qid="s1", text="How many stores opened?", answers=("1,215",), evidence=("1,215 new stores",),
                    kind="fact")


def test_plain_answer_drops_markers() -> None:
    assert plain_answer("It opened 1,215 stores [1]. Then more [2][3].") == "It opened 1,215 stores. Then more."


def test_seed_citation_precision_needs_verifier_and_evidence() -> None:
    ans = _answer(
        "It opened 1,215 new stores [1]. The city grew [2]. Retail rose [3].",
        [AnswerSentence(text="It opened 1,215 new stores", citations=[1]),
         AnswerSentence(text="The city grew", citations=[2]),
         AnswerSentence(text="Retail rose", citations=[3])],
        [_cite(1, "1,215 new stores opened", True),  # verified, holds the evidence: good
         _cite(2, "The city grew fast", True, chunk="c2"),  # verified, but its passage lacks the evidence
         _cite(3, "Retail rose", False, chunk="c1")],  # its passage holds the evidence, but unverified
    )
    s = score_answer("seeds", SEED, ans, {"c1": "In 2023, 1,215 new stores opened.", "c2": "The city grew fast."})
    assert s["correct"] is True
    assert [c["evidence"] for c in s["citations"]] == [True, False, True]
    m = aggregate("seeds", [{"unanswerable": False, "scores": s, "timings_ms": {"total": 5.0}}])["answer"]
    assert m["citation_precision"] == pytest.approx(1 / 3)
    assert m["citation_verified_rate"] == pytest.approx(2 / 3)
    assert m["citation_recall"] == pytest.approx(2 / 3)  # sentence 3 cites only an unverified span


def test_refusals_score_as_wrong_answers_and_right_refusals() -> None:
    unans = EvalQuestion(qid="u", text="Who won?", is_unanswerable=True, kind="unanswerable")
    refused = _answer("I could not find this.", [], [], refused=True)
    recs = [
        {"unanswerable": False, "scores": score_answer("seeds", SEED, refused, {}), "timings_ms": {}},
        {"unanswerable": True, "scores": score_answer("seeds", unans, refused, {}), "timings_ms": {}},
    ]
    m = aggregate("seeds", recs)["answer"]
    assert m["accuracy"] == 0.0  # refusing an answerable question is a wrong answer
    assert m["refusal"]["precision"] == 0.5 and m["refusal"]["recall"] == 1.0
    assert m["citation_recall"] is None  # no answer sentences at all


def test_squad_f1_counts_a_refusal_on_an_impossible_question_as_right() -> None:
    q = EvalQuestion(qid="a", text="How long?", answers=("63 days",), kind="fact")
    imp = EvalQuestion(qid="b", text="Who?", is_unanswerable=True)
    said = _answer("The uprising lasted 63 days [1].", [AnswerSentence(text="x", citations=[1])], [_cite(1, "x", True)])
    recs = [
        {"unanswerable": False, "scores": score_answer("squad2", q, said, {}), "timings_ms": {"total": 1.0}},
        {"unanswerable": True, "scores": score_answer("squad2", imp, _answer("", [], [], True), {}),
         "timings_ms": {"total": 3.0}},
    ]
    m = aggregate("squad2", recs)
    a = m["answer"]
    assert 0 < a["f1_answerable"] < 1  # right answer inside a longer sentence: partial token F1
    assert a["f1_all"] == pytest.approx((a["f1_answerable"] + 1.0) / 2)
    assert a["accuracy"] == 1.0
    assert m["latency_ms"]["total"]["p50_ms"] == pytest.approx(2.0)


def test_rgb_flags_a_repeated_fake_answer() -> None:
    q = EvalQuestion(qid="0", text="Super Bowl 2021 location", answers=("Tampa, Florida",),
                     fake_answers=("Glendale, Arizona",), kind="counterfactual")
    fooled = score_answer("rgb", q, _answer("It was played in Glendale, Arizona [1].", [], []), {})
    right = score_answer("rgb", q, _answer("It was played in Tampa, Florida.", [], []), {})
    assert (fooled["repeats_fake"], fooled["correct"]) == (True, False)
    assert (right["repeats_fake"], right["correct"]) == (False, True)
    m = aggregate("rgb", [{"unanswerable": False, "scores": s, "timings_ms": {}} for s in (fooled, right)])
    assert m["answer"]["fake_rate"] == 0.5
