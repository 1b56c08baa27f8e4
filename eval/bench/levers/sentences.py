"""The sentence list: the best fused candidates re-scored by their best sentence, fused as a third list.

What `RAG_SENTENCE_WEIGHT` / `RAG_SENTENCE_DEPTH` do in HybridRetriever, computed here from the
lab's score matrices: the chunk sentences are split as the indexer splits them
(`split_chunk_sentences`) and embedded alone, as `rag index` stores them for answers; a
candidate's score is the cosine of its best sentence to the query. Only the top `depth`
candidates of the two-list fusion are re-scored, because each costs a read of its stored
sentence vectors at query time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from eval.bench.levers.data import ChunkTable, QuerySet
from eval.bench.levers.score import Figures, FusionConfig, figures, top
from eval.metrics import collapse_ranking
from rag.chunk.sentences import split_chunk_sentences
from rag.embed.protocols import QueryEncoder
from rag.retrieve.fusion import FusionMethod, convex, rrf

DEPTHS = (10, 20, 30, 50)
WEIGHTS = (0.4, 0.6, 0.8, 1.0, 1.5)


@dataclass(frozen=True)
class SentenceTable:
    """Every chunk sentence's vector, grouped by chunk: rows starts[c]:ends[c] belong to chunk position c."""

    vectors: np.ndarray  # float32 (sentences, dim), unit rows
    starts: np.ndarray
    ends: np.ndarray
    encode_s: float

    def best(self, query: np.ndarray, chunk: int) -> float | None:
        rows = self.vectors[self.starts[chunk]:self.ends[chunk]]
        return float((rows @ query).max()) if len(rows) else None


def embed_sentences(chunks: ChunkTable, encoder: QueryEncoder, batch: int = 512) -> SentenceTable:
    """Split and embed every chunk's sentences (SciFact: ~51,500 sentences, ~2 min on 2 quiet cores, int8-all)."""
    texts: list[str] = []
    counts = []
    for text in chunks.texts:
        spans = split_chunk_sentences(text)
        texts.extend(text[s:e] for s, e in spans)
        counts.append(len(spans))
    t = time.perf_counter()
    vecs = np.concatenate([encoder.encode(texts[i:i + batch]) for i in range(0, len(texts), batch)]).astype(np.float32)
    ends = np.cumsum(counts)
    return SentenceTable(vecs, ends - np.array(counts), ends, time.perf_counter() - t)


def evaluate(dense: np.ndarray, bm25: np.ndarray, queries: np.ndarray, cfg: FusionConfig, chunks: ChunkTable,
             sentences: SentenceTable, qs: QuerySet, depth: int, weight: float) -> Figures:
    """The figures of `cfg` with the sentence list added (depth candidates, weight), as HybridRetriever ranks."""
    def fuse(lists: list[list[tuple[int, float]]], weights: list[float]) -> list[tuple[int, float]]:
        if cfg.fusion is FusionMethod.CONVEX:
            return convex(lists, weights)
        return rrf([[i for i, _ in h] for h in lists], weights, cfg.rrf_k)

    rankings: list[list[str]] = []
    ms: list[float] = []
    for i in range(len(qs.qrels)):
        t = time.perf_counter()
        lists = [top(dense[i], cfg.dense_depth, positive=False), top(bm25[i], cfg.bm25_depth, positive=True)]
        weights = [cfg.dense_weight, cfg.bm25_weight]
        fused = fuse(lists, weights)
        best = {c: sentences.best(queries[i], c) for c, _ in fused[:depth]}
        scored = sorted(((c, s) for c, s in best.items() if s is not None), key=lambda kv: (-kv[1], kv[0]))
        fused = fuse([*lists, scored], [*weights, weight])
        ms.append((time.perf_counter() - t) * 1000)
        rankings.append(collapse_ranking(chunks.doc_ids[chunks.doc_index[c]] for c, _ in fused))
    return figures(rankings, qs, ms)
