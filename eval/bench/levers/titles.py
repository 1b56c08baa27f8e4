"""Title handling in the embedded text: chunks embedded without their `title\\n` prefix, and one
title-only vector per document as a third fusion list.

The collection embeds `title\\nchunk` (`title_prefix` in the manifest); these vectors are what the
two alternatives would store, made with the lab's encoder so only the text differs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from eval.bench.levers.data import ChunkTable, QuerySet
from eval.bench.levers.score import Figures, FusionConfig, figures, top
from eval.metrics import collapse_ranking
from rag.embed.protocols import QueryEncoder
from rag.retrieve.fusion import convex

DENSE_WEIGHTS = (0.3, 0.4, 0.45, 0.5, 0.6)  # fusion re-tried for the untitled chunk vectors
TITLE_WEIGHTS = (0.1, 0.2, 0.3)


@dataclass(frozen=True)
class TitleVectors:
    untitled: np.ndarray  # (chunks, dim): each chunk's text alone
    titles: np.ndarray  # (documents, dim): each document's title alone
    first_chunk: np.ndarray  # (documents,): the chunk position that stands for the document in fusion
    encode_s: float  # seconds to embed the untitled chunks (the re-index cost of that choice)


def embed_titles(chunks: ChunkTable, encoder: QueryEncoder, batch: int = 512) -> TitleVectors:
    t = time.perf_counter()
    texts = list(chunks.texts)
    untitled = np.concatenate([encoder.encode(texts[i:i + batch]) for i in range(0, len(texts), batch)])
    encode_s = time.perf_counter() - t
    first = np.full(len(chunks.doc_ids), -1, dtype=np.int64)
    for c, d in enumerate(chunks.doc_index):
        if first[d] < 0:
            first[d] = c
    titles = encoder.encode([chunks.titles[int(c)] or chunks.doc_ids[d] for d, c in enumerate(first)])
    return TitleVectors(untitled.astype(np.float32), titles.astype(np.float32), first, encode_s)


def evaluate_title_list(dense: np.ndarray, bm25: np.ndarray, queries: np.ndarray, cfg: FusionConfig,
                        chunks: ChunkTable, tv: TitleVectors, qs: QuerySet, weight: float) -> Figures:
    """Convex fusion of dense, BM25 and the title list (each document's title cosine, as its first chunk)."""
    rankings: list[list[str]] = []
    ms: list[float] = []
    for i in range(len(qs.qrels)):
        t = time.perf_counter()
        title_hits = [(int(tv.first_chunk[d]), s) for d, s in top(tv.titles @ queries[i], cfg.dense_depth, False)]
        fused = convex([top(dense[i], cfg.dense_depth, positive=False), top(bm25[i], cfg.bm25_depth, positive=True),
                        title_hits], [cfg.dense_weight, cfg.bm25_weight, weight])
        ms.append((time.perf_counter() - t) * 1000)
        rankings.append(collapse_ranking(chunks.doc_ids[chunks.doc_index[c]] for c, _ in fused))
    return figures(rankings, qs, ms)
