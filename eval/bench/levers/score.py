"""Score one fusion configuration over a query set from precomputed dense and BM25 score matrices.

The fusion and aggregation are the product's own functions (rag/retrieve/fusion.py), fed the
same candidate lists HybridRetriever would get (top `dense_depth` / `bm25_depth` chunks, BM25
hits with score > 0), so a row of the table is what the product would rank.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from eval.bench.levers.data import ChunkTable, QuerySet
from eval.metrics import collapse_ranking, mrr_at_k, ndcg_at_k, recall_at_k
from rag.retrieve.fusion import DocAggregation, FusionMethod, by_document, convex, rrf


@dataclass(frozen=True)
class FusionConfig:
    fusion: FusionMethod = FusionMethod.RRF
    rrf_k: float = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    dense_depth: int = 50
    bm25_depth: int = 50
    aggregation: DocAggregation = DocAggregation.NONE
    top_n: int = 2

    def with_(self, **kw: Any) -> FusionConfig:
        return replace(self, **kw)

    def label(self) -> str:
        if self.dense_weight == 0:
            head = "BM25 alone"
        elif self.bm25_weight == 0:
            head = "dense alone"
        elif self.fusion is FusionMethod.RRF:
            head = f"RRF k={self.rrf_k:g} w={self.dense_weight:g}/{self.bm25_weight:g}"
        else:
            head = f"convex w={self.dense_weight:g}/{self.bm25_weight:g}"
        depth = f" depth {self.dense_depth}/{self.bm25_depth}" if (self.dense_depth, self.bm25_depth) != (50, 50) else ""
        agg = {DocAggregation.NONE: "", DocAggregation.MAX: ", doc max",
               DocAggregation.SUM: f", doc sum top-{self.top_n}"}[self.aggregation]
        return head + depth + agg


def top(scores: np.ndarray, k: int, positive: bool) -> list[tuple[int, float]]:
    """(chunk position, score) of the k best, best first; ties by position (FAISS and bm25s agree)."""
    k = min(k, len(scores))
    idx = np.argpartition(-scores, k - 1)[:k]
    idx = idx[np.lexsort((idx, -scores[idx]))]
    return [(int(i), float(scores[i])) for i in idx if not positive or scores[i] > 0]


def rank_documents(dense: np.ndarray, bm25: np.ndarray, cfg: FusionConfig, chunks: ChunkTable) -> list[str]:
    """One query: dataset document ids, best first."""
    d_hits = top(dense, cfg.dense_depth, positive=False) if cfg.dense_weight > 0 else []
    b_hits = top(bm25, cfg.bm25_depth, positive=True) if cfg.bm25_weight > 0 else []
    weights = [cfg.dense_weight, cfg.bm25_weight]
    if cfg.fusion is FusionMethod.RRF:
        fused = rrf([[i for i, _ in d_hits], [i for i, _ in b_hits]], weights, cfg.rrf_k)
    else:
        fused = convex([d_hits, b_hits], weights)
    doc_of = {i: int(chunks.doc_index[i]) for i, _ in fused}
    ordered = by_document(fused, doc_of, cfg.aggregation, cfg.top_n)
    return collapse_ranking(chunks.doc_ids[doc_of[i]] for i, _ in ordered)


@dataclass(frozen=True)
class Figures:
    ndcg10: float
    recall100: float
    mrr10: float
    query_ms: list[float]  # the fusion step's own time per query (candidate selection included)


def figures(rankings: list[list[str]], qs: QuerySet, query_ms: list[float]) -> Figures:
    """Mean nDCG@10, recall@100 and MRR@10 of one document ranking per query of `qs`."""
    n = len(qs.qrels)
    return Figures(sum(ndcg_at_k(r, q, 10) for r, q in zip(rankings, qs.qrels)) / n,
                   sum(recall_at_k(r, q, 100) for r, q in zip(rankings, qs.qrels)) / n,
                   sum(mrr_at_k(r, q, 10) for r, q in zip(rankings, qs.qrels)) / n, query_ms)


def evaluate(dense: np.ndarray, bm25: np.ndarray, cfg: FusionConfig, chunks: ChunkTable, qs: QuerySet) -> Figures:
    rankings, ms = [], []
    for i in range(len(qs.qrels)):
        t = time.perf_counter()
        rankings.append(rank_documents(dense[i], bm25[i], cfg, chunks))
        ms.append((time.perf_counter() - t) * 1000)
    return figures(rankings, qs, ms)
