"""Reciprocal rank fusion: score(d) = sum_i w_i / (k + rank_i(d)), ranks starting at 1.

RRF needs no score calibration between BM25 and cosine, which is why it is the default fuser
(Cormack et al. 2009); k=60 is their constant and what the shared baseline measured.
"""

from __future__ import annotations

from collections.abc import Sequence


def rrf(ranked_lists: Sequence[Sequence[int]], weights: Sequence[float], k: int = 60) -> list[tuple[int, float]]:
    """Fuse ranked id lists (best first) into (id, fused score) pairs, best first; ties keep first-seen order."""
    if len(ranked_lists) != len(weights):
        raise ValueError("one weight per ranked list")
    scores: dict[int, float] = {}
    for ids, w in zip(ranked_lists, weights):
        for rank, doc in enumerate(ids, start=1):
            scores[doc] = scores.get(doc, 0.0) + w / (k + rank)
    return sorted(scores.items(), key=lambda kv: -kv[1])
