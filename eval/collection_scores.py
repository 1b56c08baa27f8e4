"""Whole score matrices over a built collection: its chunks and stored vectors, a query set, BM25 and fused
document rankings computed from (queries x chunks) matrices.

`rag eval train-encoder` mines its examples and chooses its settings with these (eval/train_encoder.py,
eval/train_encoder_select.py): scoring a candidate model on many queries from matrices costs no re-indexing.
The collection is the one `rag eval --dataset beir` builds; its SQLite rows give each chunk's text, title,
document and dataset id, and its embedding cache the exact vectors FAISS searches. The fusion and
aggregation are the product's own functions (rag/retrieve/fusion.py) fed the candidate lists
HybridRetriever would get, so a ranking here is the product's (tests/eval/test_runner.py checks it).
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from eval.adapters import load_beir
from eval.metrics import collapse_ranking, mrr_at_k, ndcg_at_k, recall_at_k
from rag.retrieve.fusion import DocAggregation, FusionMethod, by_document, convex, rrf
from rag.store.bm25 import DEFAULT_PARAMS, Bm25Params, BM25Index

FOLDS = 5
SEED = 12  # the fold draw is fixed once, as the SciFact split is (eval/splits.py)


@dataclass(frozen=True)
class ChunkTable:
    """Every chunk of the collection in row order."""

    row_ids: np.ndarray  # int64, the store's row ids (FAISS ids)
    doc_index: np.ndarray  # int64, position of the chunk's document in `doc_ids`
    doc_ids: tuple[str, ...]  # dataset ids, one per stored document
    titles: tuple[str, ...]  # per chunk
    texts: tuple[str, ...]  # per chunk (title not included)
    vectors: np.ndarray  # float32 (chunks, dim), normalised: the stored embeddings

    @property
    def size(self) -> int:
        return len(self.row_ids)


@dataclass(frozen=True)
class QuerySet:
    name: str  # "tune", "report", "train", ...
    qids: tuple[str, ...]
    texts: tuple[str, ...]
    qrels: tuple[dict[str, int], ...]


def load_chunks(collection_dir: Path) -> ChunkTable:
    db = collection_dir / "rag.sqlite"
    if not db.is_file():
        raise SystemExit(f"error: {db} not found: build it first with "
                         "`rag eval --dataset beir --path ../shared/eval/scifact --index-dir index`")
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT c.row_id, d.doc_id, d.meta, d.title, c.text, e.vector FROM chunks c "
            "JOIN documents d ON d.doc_id = c.doc_id JOIN embeddings e ON e.key = c.emb_key ORDER BY c.row_id"
        ).fetchall()
    finally:
        conn.close()
    if not rows:
        raise SystemExit(f"error: {db} holds no chunks with cached vectors")
    position: dict[str, int] = {}
    doc_ids: list[str] = []
    doc_index = []
    for _, doc, meta, *_ in rows:
        if doc not in position:
            position[doc] = len(doc_ids)
            doc_ids.append(json.loads(meta)["id"])
        doc_index.append(position[doc])
    return ChunkTable(
        row_ids=np.array([r[0] for r in rows], dtype=np.int64),
        doc_index=np.array(doc_index, dtype=np.int64),
        doc_ids=tuple(doc_ids),
        titles=tuple(r[3] for r in rows),
        texts=tuple(r[4] for r in rows),
        vectors=np.stack([np.frombuffer(r[5], dtype=np.float32) for r in rows]),
    )


def load_queries(data: Path, split_file: Path, name: str) -> QuerySet:
    evalset = load_beir(data, str(split_file))
    return QuerySet(name, tuple(q.qid for q in evalset.questions), tuple(q.text for q in evalset.questions),
                    tuple(dict(q.relevant) for q in evalset.questions))


def subset(qs: QuerySet, idx: np.ndarray, name: str) -> QuerySet:
    return QuerySet(name, tuple(qs.qids[i] for i in idx), tuple(qs.texts[i] for i in idx),
                    tuple(qs.qrels[i] for i in idx))


class Bm25Scorer:
    """The product's BM25Index over the chunks as the store indexes them (`title\\ntext`); whole score
    vectors from bm25s, so the arithmetic is the library's, not ours."""

    def __init__(self, chunks: ChunkTable, params: Bm25Params = DEFAULT_PARAMS) -> None:
        texts = [f"{t}\n{x}" if t else x for t, x in zip(chunks.titles, chunks.texts)]
        self.index = BM25Index.build(chunks.row_ids, texts, params)
        self.retriever = self.index.retriever
        self.size = len(texts)

    def scores(self, text: str) -> np.ndarray:
        ids = self.retriever.get_tokens_ids(self.index.tokenize([text])[0])
        if not ids:
            return np.zeros(self.size, dtype=np.float32)
        return self.retriever.get_scores_from_ids(ids).astype(np.float32)


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


def evaluate(dense: np.ndarray, bm25: np.ndarray, cfg: FusionConfig, chunks: ChunkTable, qs: QuerySet) -> Figures:
    """Mean nDCG@10, recall@100 and MRR@10 of the fused document ranking of each query of `qs`."""
    rankings, ms = [], []
    for i in range(len(qs.qrels)):
        t = time.perf_counter()
        rankings.append(rank_documents(dense[i], bm25[i], cfg, chunks))
        ms.append((time.perf_counter() - t) * 1000)
    n = len(qs.qrels)
    return Figures(sum(ndcg_at_k(r, q, 10) for r, q in zip(rankings, qs.qrels)) / n,
                   sum(recall_at_k(r, q, 100) for r, q in zip(rankings, qs.qrels)) / n,
                   sum(mrr_at_k(r, q, 10) for r, q in zip(rankings, qs.qrels)) / n, ms)


def folds_by_shared_document(qs: QuerySet) -> np.ndarray:
    """A fold (0..FOLDS-1) per query; queries linked by a shared relevant document land in the same fold
    (union-find over documents), so no held-out query's document was a positive in training."""
    parent = list(range(len(qs.qrels)))

    def root(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    owner: dict[str, int] = {}
    for i, q in enumerate(qs.qrels):
        for d, r in q.items():
            if r > 0:
                if d in owner:
                    parent[root(i)] = root(owner[d])
                else:
                    owner[d] = i
    groups = np.array([root(i) for i in range(len(qs.qrels))])
    unique = np.unique(groups)
    fold_of = dict(zip(unique[np.random.default_rng(SEED).permutation(len(unique))], np.arange(len(unique)) % FOLDS))
    return np.array([fold_of[g] for g in groups])
