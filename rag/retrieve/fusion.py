"""Fusion of the dense and keyword result lists, and chunk-to-document score aggregation.

Everything here works on plain (id, score) lists, computed by us from each backend's dense and
keyword results, so any store (FAISS + bm25s here, Milvus in the scale-out work) reproduces the
same ranking exactly: no server-side fusion is needed.

- `rrf`: reciprocal rank fusion, score(d) = sum_i w_i / (k + rank_i(d)), ranks from 1 (Cormack et
  al. 2009). Needs no score calibration between BM25 and cosine.
- `convex`: score(d) = sum_i w_i * minmax_i(score_i(d)), each list's scores scaled to [0, 1] over
  that list (a document missing from a list gets 0 there).
- `by_document`: re-orders fused chunk hits so that chunks of the best *documents* come first;
  a document scores the max of its chunks' fused scores or the sum of its best `top_n`. Within a
  document, chunks keep their own order.

Which one is the default, and with which constants, was chosen on SciFact's tuning part by the
retrieval-levers table (docs/DECISIONS.md, "Retrieval").
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

from rag.settings import DocAggregation, FusionMethod

__all__ = ["DocAggregation", "FusionMethod", "by_document", "convex", "rrf"]

T = TypeVar("T", bound=Hashable)
D = TypeVar("D", bound=Hashable)


def rrf(ranked_lists: Sequence[Sequence[T]], weights: Sequence[float], k: float = 60) -> list[tuple[T, float]]:
    """Fuse ranked id lists (best first) into (id, fused score) pairs, best first; ties keep first-seen order."""
    if len(ranked_lists) != len(weights):
        raise ValueError("one weight per ranked list")
    if k <= 0:
        raise ValueError(f"the RRF constant k must be > 0, got {k}")
    scores: dict[T, float] = {}
    for ids, w in zip(ranked_lists, weights):
        for rank, doc in enumerate(ids, start=1):
            scores[doc] = scores.get(doc, 0.0) + w / (k + rank)
    return sorted(scores.items(), key=lambda kv: -kv[1])


def convex(scored_lists: Sequence[Sequence[tuple[T, float]]], weights: Sequence[float]) -> list[tuple[T, float]]:
    """Weighted sum of min-max normalised scores; a list whose scores are all equal gives each 1.0."""
    if len(scored_lists) != len(weights):
        raise ValueError("one weight per scored list")
    scores: dict[T, float] = {}
    for hits, w in zip(scored_lists, weights):
        if not hits:
            continue
        values = [s for _, s in hits]
        lo, hi = min(values), max(values)
        span = hi - lo
        for doc, s in hits:
            scores[doc] = scores.get(doc, 0.0) + w * ((s - lo) / span if span > 0 else 1.0)
    return sorted(scores.items(), key=lambda kv: -kv[1])


def by_document(fused: Sequence[tuple[T, float]], doc_of: Mapping[T, D], aggregation: DocAggregation,
                top_n: int = 2) -> list[tuple[T, float]]:
    """Chunks grouped by document, documents ordered by their aggregated score (see module doc).

    The returned score of each chunk is its document's aggregated score, so callers that collapse
    to documents read the document score directly. Ties keep the fused order.
    """
    if aggregation is DocAggregation.NONE:
        return list(fused)
    if top_n < 1:
        raise ValueError(f"top_n must be >= 1, got {top_n}")
    groups: dict[D, list[tuple[T, float]]] = {}
    for cid, s in fused:
        groups.setdefault(doc_of[cid], []).append((cid, s))
    if aggregation is DocAggregation.MAX:
        doc_score = {d: hits[0][1] for d, hits in groups.items()}
    else:
        doc_score = {d: sum(s for _, s in hits[:top_n]) for d, hits in groups.items()}
    order = sorted(groups, key=lambda d: -doc_score[d])  # stable: ties keep first-seen order
    return [(cid, doc_score[d]) for d in order for cid, _ in groups[d]]
