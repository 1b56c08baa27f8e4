"""Metrics against hand-computed values."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from eval.metrics import (
    answer_accuracy,
    answer_contains,
    collapse_ranking,
    evidence_scores,
    hit_at_k,
    latency_summary,
    mrr_at_k,
    ndcg_at_k,
    normalize_answer_text,
    percentile,
    recall_at_k,
    refusal_scores,
    retrieval_scores,
    squad_exact,
    squad_f1,
    squad_normalize,
)

# ------------------------------------------------------------------ nDCG

GRADED = {"a": 3, "b": 2, "c": 1}


def test_ndcg_graded_linear_gain() -> None:
    # ranks: c(1) x(0) a(3) b(2)
    # DCG  = 1/log2(2) + 0 + 3/log2(4) + 2/log2(5) = 1 + 1.5 + 0.861353 = 3.361353
    # IDCG = 3/log2(2) + 2/log2(3) + 1/log2(4)     = 3 + 1.261860 + 0.5 = 4.761860
    assert ndcg_at_k(["c", "x", "a", "b"], GRADED, 10) == pytest.approx(3.361353 / 4.761860, abs=1e-6)
    assert ndcg_at_k(["c", "x", "a", "b"], GRADED, 10) == pytest.approx(0.705891, abs=1e-6)


def test_ndcg_is_not_the_exponential_gain_variant() -> None:
    # (2^rel - 1) gains would give (1 + 7/2 + 3/log2 5) / (7 + 3/log2 3 + 1/2) = 0.616646
    assert ndcg_at_k(["c", "x", "a", "b"], GRADED, 10) != pytest.approx(0.616646, abs=1e-3)


def test_ndcg_cut_at_k_uses_ideal_cut_at_k() -> None:
    # top 2 = c, x: DCG = 1; IDCG@2 = 3 + 2/log2(3) = 4.261860
    assert ndcg_at_k(["c", "x", "a", "b"], GRADED, 2) == pytest.approx(1 / 4.261860, abs=1e-6)


def test_ndcg_perfect_and_binary() -> None:
    assert ndcg_at_k(["a", "b", "c"], GRADED, 10) == pytest.approx(1.0)
    # binary, one relevant at rank 3: 1/log2(4) / 1 = 0.5
    assert ndcg_at_k(["x", "y", "d"], {"d": 1}, 10) == pytest.approx(0.5)


def test_no_relevant_doc_retrieved_scores_zero_everywhere() -> None:
    scores = retrieval_scores(["x", "y", "z"], {"a": 1, "b": 2})
    assert scores["ndcg@10"] == 0.0
    assert scores["mrr@10"] == 0.0
    assert all(scores[f"hit@{k}"] == 0.0 and scores[f"recall@{k}"] == 0.0 for k in (1, 3, 5, 10, 20))


def test_empty_ranking_scores_zero() -> None:
    assert ndcg_at_k([], {"a": 1}, 10) == 0.0


@pytest.mark.parametrize("fn", [hit_at_k, recall_at_k, mrr_at_k, ndcg_at_k])
def test_query_without_relevant_qrels_is_an_error(fn) -> None:
    with pytest.raises(ValueError, match="no relevant"):
        fn(["a"], {"a": 0}, 10)
    with pytest.raises(ValueError, match="no relevant"):
        fn(["a"], {}, 10)


def test_duplicates_must_be_collapsed_first() -> None:
    with pytest.raises(ValueError, match="collapse_ranking"):
        ndcg_at_k(["a", "a"], {"a": 1}, 10)
    assert collapse_ranking(["d1", "d2", "d1", "d3", "d2"]) == ["d1", "d2", "d3"]


def test_bad_k() -> None:
    with pytest.raises(ValueError, match="k must be"):
        hit_at_k(["a"], {"a": 1}, 0)


# ------------------------------------------------------------------ hit / recall / MRR


def test_hit_recall_mrr_hand_computed() -> None:
    qrels = {"a": 1, "b": 1, "c": 0}  # c judged not relevant
    ranked = ["x", "a", "c", "y", "b"]
    assert hit_at_k(ranked, qrels, 1) == 0.0
    assert hit_at_k(ranked, qrels, 3) == 1.0
    assert recall_at_k(ranked, qrels, 1) == 0.0
    assert recall_at_k(ranked, qrels, 3) == 0.5
    assert recall_at_k(ranked, qrels, 5) == 1.0
    assert mrr_at_k(ranked, qrels, 10) == 0.5
    assert mrr_at_k(ranked, qrels, 1) == 0.0
    assert mrr_at_k(["y", "x", "z", "b"], qrels, 10) == 0.25


def test_retrieval_scores_keys() -> None:
    s = retrieval_scores(["a"], {"a": 1})
    assert set(s) == {f"{m}@{k}" for m in ("hit", "recall") for k in (1, 3, 5, 10, 20)} | {"mrr@10", "ndcg@10"}


# ------------------------------------------------------------------ evidence


def test_evidence_scores_fold_nfkc_and_whitespace() -> None:
    passages = ["nothing here", "x 1,215 new first-office\u00a0stores\n opened", "other"]
    s = evidence_scores(passages, ["1,215 new first-office stores"])
    assert (s["hit@1"], s["hit@3"], s["recall@3"], s["mrr@10"]) == (0.0, 1.0, 1.0, 0.5)


def test_evidence_recall_counts_each_string() -> None:
    passages = ["alpha beta", "gamma", "delta"]
    s = evidence_scores(passages, ["beta", "delta", "omega"])
    assert s["recall@1"] == pytest.approx(1 / 3)
    assert s["recall@3"] == pytest.approx(2 / 3)
    assert s["mrr@10"] == 1.0
    with pytest.raises(ValueError, match="no evidence"):
        evidence_scores(passages, [])


# ------------------------------------------------------------------ answers


def test_normalize_answer_text() -> None:
    assert normalize_answer_text("  “Tampa,\u00a0 FLORIDA.”  ") == "tampa, florida"
    assert normalize_answer_text("\uff11\uff12\uff13\uff14") == "1234"  # full-width digits, NFKC


def test_answer_contains() -> None:
    assert answer_contains("The store sits on Nanjing\u00a0West  Road, downtown.", ["Nanjing West Road"])
    assert answer_contains("It opened \uff11,215 stores", ["1,215", "1215"])  # full-width 1
    assert answer_contains("Played in Tampa, Florida.", ["“Tampa, Florida”"])
    assert not answer_contains("It was 1995.", ["95"])  # word boundaries
    assert not answer_contains("Glendale, Arizona", ["Tampa, Florida"])
    with pytest.raises(ValueError, match="refusal"):
        answer_contains("anything", ["", "  "])


def test_answer_accuracy() -> None:
    assert answer_accuracy(["Paris it is", "no idea"], [["Paris"], ["Rome"]]) == 0.5
    with pytest.raises(ValueError, match="2 answers but 1"):
        answer_accuracy(["a", "b"], [["a"]])


def test_squad_normalize_official_rules() -> None:
    assert squad_normalize("The  Cat, sat on a MAT!") == "cat sat on mat"
    assert squad_normalize("an apple") == "apple"
    assert squad_normalize("theory") == "theory"  # articles only as whole words


def test_squad_f1_hand_computed() -> None:
    # pred "cat sat" vs gold "cat sat on mat": P = 2/2, R = 2/4, F1 = 2*1*0.5/1.5 = 0.6667
    assert squad_f1("the cat sat", ["a cat sat on the mat"]) == pytest.approx(2 / 3)
    # max over golds
    assert squad_f1("Denver Broncos", ["Broncos", "Denver Broncos"]) == 1.0
    # bag of tokens: common = min(2,1) x + min(1,2) y = 2, so P = R = 2/3
    assert squad_f1("x x y", ["x y y"]) == pytest.approx(2 / 3)
    assert squad_f1("no overlap", ["other words"]) == 0.0


def test_squad_unanswerable_and_refusal() -> None:
    assert squad_f1("", [""]) == 1.0  # correct refusal
    assert squad_f1("", []) == 1.0
    assert squad_f1("Paris", [""]) == 0.0  # answered an unanswerable question
    assert squad_f1("", ["Paris"]) == 0.0  # refused an answerable one
    assert squad_exact("The Eiffel Tower.", ["eiffel tower"]) == 1.0
    assert squad_exact("Eiffel", ["eiffel tower"]) == 0.0


# ------------------------------------------------------------------ refusals


def test_refusal_scores() -> None:
    s = refusal_scores([True, True, False, False, True], [True, False, True, False, True])
    assert (s.refused, s.unanswerable, s.correct_refusals) == (3, 3, 2)
    assert s.precision == pytest.approx(2 / 3) and s.recall == pytest.approx(2 / 3)
    assert s.f1 == pytest.approx(2 / 3)
    none = refusal_scores([False, False], [True, False])
    assert none.precision is None and none.recall == 0.0 and none.f1 is None
    with pytest.raises(ValueError):
        refusal_scores([True], [True, False])


# ------------------------------------------------------------------ latency


def test_percentile_linear_interpolation() -> None:
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert percentile(list(range(1, 21)), 95) == pytest.approx(19.05)  # h = 19 * 0.95 = 18.05
    assert percentile([7.0], 95) == 7.0
    assert percentile([1, 2, 3], 0) == 1 and percentile([1, 2, 3], 100) == 3


def test_percentile_matches_numpy_linear() -> None:
    rng = random.Random(7)
    xs = [rng.lognormvariate(3, 0.5) for _ in range(101)]
    for q in (50, 90, 95, 99):
        assert percentile(xs, q) == pytest.approx(float(np.percentile(xs, q, method="linear")))


def test_percentile_errors_and_summary() -> None:
    with pytest.raises(ValueError, match="empty"):
        percentile([], 50)
    with pytest.raises(ValueError, match="0, 100"):
        percentile([1.0], 101)
    s = latency_summary([10.0, 20.0, 30.0])
    assert s == {"p50_ms": 20.0, "p95_ms": pytest.approx(29.0), "mean_ms": 20.0, "max_ms": 30.0}
    assert not math.isnan(s["p95_ms"])
