"""Evaluation metrics: pure functions over one query (or one list of numbers).

Standard library only, on purpose: the peer benchmarks (eval/bench/peers/) import this module
from their own virtualenvs, so LlamaIndex, Haystack and our pipeline are scored by the same code.
(rag.zh.script and rag.zh.numbers, for Han answers, are standard-library modules of our own, and
so is every package __init__ on their way: keep them so.)

Retrieval metrics take `ranked`, the retrieved ids best first (no duplicates: collapse chunk
hits to documents with `collapse_ranking` first), and `qrels`, {doc id: graded relevance}.
A grade > 0 means relevant. A query whose qrels hold no relevant id has no defined recall or
nDCG, so every retrieval metric raises ValueError for it (BEIR and pytrec_eval leave such
queries out; the caller must too, e.g. unanswerable SQuAD questions).

nDCG@k follows BEIR / pytrec_eval (trec_eval's `ndcg_cut`), not the exponential-gain variant:
    DCG@k  = sum over ranks i = 1..k of rel(doc_i) / log2(i + 1)      (linear gain)
    IDCG@k = the same sum over the qrels grades sorted descending, cut at k
    nDCG@k = DCG@k / IDCG@k
With binary qrels (SciFact) both variants agree; with graded ones they differ.

Checked against pytrec_eval (trec_eval's C code) to 1e-6 on a real BM25 run over SciFact, binary
and graded qrels: tests/eval/test_metrics_vs_pytrec_eval.py. We keep our own functions rather than
calling pytrec_eval because the peer venvs import this module with the standard library only, and
pytrec_eval scores a whole run at once (numpy, a C extension, ties broken by doc id), not one
ranked list per question as the runner records them.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from rag.zh.numbers import contains as han_contains
from rag.zh.script import has_han

K_VALUES: tuple[int, ...] = (1, 3, 5, 10, 20)

T = TypeVar("T", bound=Hashable)


# ------------------------------------------------------------------ retrieval


def collapse_ranking(ranked: Iterable[T]) -> list[T]:
    """Keep each id at its first (best) rank: chunk hits -> document ranking.

    For a list sorted by score this is "a document scores the max over its chunks".
    """
    seen: set[T] = set()
    out: list[T] = []
    for item in ranked:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def _check(ranked: Sequence[str], qrels: Mapping[str, int], k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if not any(g > 0 for g in qrels.values()):
        raise ValueError(
            "qrels hold no relevant id (grade > 0): the metric is undefined; "
            "leave this query out of retrieval scoring"
        )
    if len(set(ranked)) != len(ranked):
        raise ValueError(
            "ranked ids contain duplicates; collapse chunk hits to documents with "
            "collapse_ranking() before scoring"
        )


def hit_at_k(ranked: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    """1.0 if any relevant id is in the top k, else 0.0."""
    _check(ranked, qrels, k)
    return 1.0 if any(qrels.get(d, 0) > 0 for d in ranked[:k]) else 0.0


def recall_at_k(ranked: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    """Share of the relevant ids found in the top k (grades ignored, as in BEIR)."""
    _check(ranked, qrels, k)
    relevant = {d for d, g in qrels.items() if g > 0}
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def mrr_at_k(ranked: Sequence[str], qrels: Mapping[str, int], k: int = 10) -> float:
    """1 / rank of the first relevant id within the top k; 0.0 when none is there."""
    _check(ranked, qrels, k)
    for rank, d in enumerate(ranked[:k], start=1):
        if qrels.get(d, 0) > 0:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: Sequence[str], qrels: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k with linear gain (BEIR / pytrec_eval); see the module docstring."""
    _check(ranked, qrels, k)
    dcg = sum(
        max(qrels.get(d, 0), 0) / math.log2(rank + 1)
        for rank, d in enumerate(ranked[:k], start=1)
    )
    ideal = sorted((g for g in qrels.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(rank + 1) for rank, g in enumerate(ideal, start=1))
    return dcg / idcg


def retrieval_scores(
    ranked: Sequence[str], qrels: Mapping[str, int], ks: Sequence[int] = K_VALUES
) -> dict[str, float]:
    """All retrieval metrics of one query: hit@k, recall@k for each k, mrr@10, ndcg@10."""
    out: dict[str, float] = {}
    for k in ks:
        out[f"hit@{k}"] = hit_at_k(ranked, qrels, k)
        out[f"recall@{k}"] = recall_at_k(ranked, qrels, k)
    out["mrr@10"] = mrr_at_k(ranked, qrels, 10)
    out["ndcg@10"] = ndcg_at_k(ranked, qrels, 10)
    return out


# ------------------------------------------------------------------ evidence strings


def fold_evidence(text: str) -> str:
    """NFKC and whitespace folding (case kept): how seed evidence is compared with passages."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def evidence_scores(
    passages: Sequence[str], evidence: Sequence[str], ks: Sequence[int] = K_VALUES
) -> dict[str, float]:
    """Retrieval scores where relevance is "the passage contains an evidence string".

    Used for questions that name evidence text instead of relevant ids (the seed set).
    hit@k: some top-k passage holds some evidence string; recall@k: share of the evidence
    strings found in the top k passages; mrr@10: 1 / rank of the first passage holding one.
    nDCG is left out: without ids there is no ideal ranking to divide by.
    """
    wanted = [fold_evidence(e) for e in evidence if fold_evidence(e)]
    if not wanted:
        raise ValueError("no evidence strings: leave this question out of retrieval scoring")
    folded = [fold_evidence(p) for p in passages]
    # first rank (1-based) at which each evidence string appears; None = not retrieved
    first: list[int | None] = [
        next((i for i, p in enumerate(folded, start=1) if e in p), None) for e in wanted
    ]
    out: dict[str, float] = {}
    for k in ks:
        found = [r is not None and r <= k for r in first]
        out[f"hit@{k}"] = float(any(found))
        out[f"recall@{k}"] = sum(found) / len(wanted)
    best = min((r for r in first if r is not None), default=None)
    out["mrr@10"] = 1.0 / best if best is not None and best <= 10 else 0.0
    return out


# ------------------------------------------------------------------ answers

_WS = re.compile(r"\s+")
# Unicode punctuation and symbols (categories P*, S*) at the edges; stripping only ASCII
# punctuation would leave curly quotes and full stops from other scripts on the gold string.
_EDGE = re.compile(r"^[\W_]+|[\W_]+$")


def normalize_answer_text(text: str) -> str:
    """NFKC, casefold, whitespace folded to single spaces, punctuation stripped at the edges."""
    folded = _WS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()
    return _EDGE.sub("", folded)


def answer_contains(answer: str, golds: Sequence[str]) -> bool:
    """True if any gold string occurs in the answer after `normalize_answer_text`.

    The match must sit on word boundaries: gold "95" is not found in "1995" (a plain substring
    test would count it). Empty golds are ignored; no usable gold at all is an error, because
    unanswerable questions are scored by the refusal metrics, not here.

    Han text has no word boundaries (every Han character is a word character to a regex), so where
    the answer or a gold holds a Han character, that gold also counts when it occurs in the answer
    after rag.zh.numbers folding: numerals and units (五百万元 = 500万元 = 5,000,000 元, 173家 =
    一百七十三家, 百分之五 = 5%), dates, case, spaces and punctuation, as long as the match does not
    cut a number or a Latin word ("73家" is not in "173家"). Without Han the outcome is the old one.
    """
    norm_golds = [g for g in (normalize_answer_text(x) for x in golds) if g]
    if not norm_golds:
        raise ValueError("no non-empty gold answer: score unanswerable questions with refusal_scores")
    norm = normalize_answer_text(answer)
    if any(re.search(rf"(?<!\w){re.escape(g)}(?!\w)", norm) for g in norm_golds):
        return True
    han_answer = has_han(answer)
    return any(han_contains(answer, g) for g in golds if han_answer or has_han(g))


def answer_hit_scores(passages: Sequence[str], golds: Sequence[str], ks: Sequence[int] = K_VALUES) -> dict[str, float]:
    """answer_hit@k: some top-k passage holds a gold answer (`answer_contains`, so Han-aware).

    The retrieval figure of issue 32's targets ("the gold answer string occurs in one of `rag
    search -k 5`'s passages"), beside the evidence-string hit@k; mrr as evidence_scores' mrr@10.
    """
    depth = max(*ks, 10)
    first = next((i for i, p in enumerate(passages[:depth], start=1) if answer_contains(p, golds)), None)
    out = {f"answer_hit@{k}": float(first is not None and first <= k) for k in ks}
    out["answer_mrr@10"] = 1.0 / first if first is not None and first <= 10 else 0.0
    return out


def answer_accuracy(answers: Sequence[str], golds: Sequence[Sequence[str]]) -> float:
    """Mean of `answer_contains` over paired answers and gold lists."""
    if len(answers) != len(golds):
        raise ValueError(f"{len(answers)} answers but {len(golds)} gold lists")
    if not answers:
        raise ValueError("no answers to score")
    return sum(answer_contains(a, g) for a, g in zip(answers, golds)) / len(answers)


_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = set(string.punctuation)


def squad_normalize(text: str) -> str:
    """The official SQuAD v2 normalisation: lower, drop punctuation, articles, extra spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _f1(prediction: str, gold: str) -> float:
    pred_toks = squad_normalize(prediction).split()
    gold_toks = squad_normalize(gold).split()
    if not pred_toks or not gold_toks:
        # Official rule: an empty side scores 1 only if both are empty (a correct refusal).
        return float(pred_toks == gold_toks)
    common = sum((Counter(pred_toks) & Counter(gold_toks)).values())
    if common == 0:
        return 0.0
    precision = common / len(pred_toks)
    recall = common / len(gold_toks)
    return 2 * precision * recall / (precision + recall)


def _squad_golds(golds: Sequence[str]) -> list[str]:
    # As the official script: golds that normalise to nothing are dropped, and a question with
    # none left is unanswerable, whose only gold is "" (so the right prediction is "").
    kept = [g for g in golds if squad_normalize(g)]
    return kept or [""]


def squad_f1(prediction: str, golds: Sequence[str]) -> float:
    """SQuAD token F1, max over the gold answers; pass "" as the prediction for a refusal."""
    return max(_f1(prediction, g) for g in _squad_golds(golds))


def squad_exact(prediction: str, golds: Sequence[str]) -> float:
    """SQuAD exact match after `squad_normalize`, max over the gold answers."""
    p = squad_normalize(prediction)
    return max(float(p == squad_normalize(g)) for g in _squad_golds(golds))


# ------------------------------------------------------------------ refusals


@dataclass(frozen=True)
class RefusalScores:
    """Refusal as a classifier of unanswerable questions. None where a denominator is 0."""

    precision: float | None  # of the refusals, the share on unanswerable questions
    recall: float | None  # of the unanswerable questions, the share refused
    f1: float | None
    refused: int
    unanswerable: int
    correct_refusals: int


def refusal_scores(refused: Sequence[bool], unanswerable: Sequence[bool]) -> RefusalScores:
    """Precision/recall of refusing, with "the question is unanswerable" as the positive class."""
    if len(refused) != len(unanswerable):
        raise ValueError(f"{len(refused)} refusal flags but {len(unanswerable)} labels")
    n_ref = sum(refused)
    n_un = sum(unanswerable)
    tp = sum(r and u for r, u in zip(refused, unanswerable))
    p = tp / n_ref if n_ref else None
    r = tp / n_un if n_un else None
    f1 = None if p is None or r is None else (0.0 if p + r == 0 else 2 * p * r / (p + r))
    return RefusalScores(p, r, f1, n_ref, n_un, tp)


# ------------------------------------------------------------------ latency


def percentile(values: Sequence[float], q: float) -> float:
    """q-th percentile (0..100) by linear interpolation between closest ranks.

    This is Hyndman & Fan type 7, numpy's default ("linear"): position h = (n - 1) * q / 100
    in the sorted values, interpolated between floor(h) and ceil(h). p50 of [1, 2, 3, 4] is 2.5.
    """
    if not values:
        raise ValueError("no values: cannot take a percentile of an empty list")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be in [0, 100], got {q}")
    xs = sorted(values)
    h = (len(xs) - 1) * q / 100
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


def latency_summary(latencies_ms: Sequence[float]) -> dict[str, float]:
    """p50 / p95 / mean / max of per-query latencies in milliseconds."""
    return {
        "p50_ms": percentile(latencies_ms, 50),
        "p95_ms": percentile(latencies_ms, 95),
        "mean_ms": sum(latencies_ms) / len(latencies_ms),
        "max_ms": max(latencies_ms),
    }
