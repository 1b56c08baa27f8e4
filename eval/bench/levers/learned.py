"""Two query-time levers that need more than a fusion setting: a learned re-scorer and dense feedback.

- **Learned re-scorer**: logistic regression over features of each fused candidate document, all
  computable from the two result lists the product already has (so any store backend could feed
  it): the fused score, the dense and BM25 scores (raw, min-max over the candidates, relative to
  the query's best), their reciprocal ranks, the fused rank and the share of query terms in the
  title. Trained on the tuning part's qrels; its tuning figure is 5-fold cross-validated by query
  (each query scored by a model that never saw it), its report figure comes from one model fitted
  on the whole tuning part. Query time adds one (candidates x features) dot product.
- **Dense pseudo-relevance feedback** (Rocchio): the query vector plus beta times the mean of its
  top-k dense chunks, re-normalised, searched again: one more exact dense search per query.

scikit-learn is imported here only (benchmark time); a product version would apply the fitted
coefficients with numpy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from eval.bench.levers.data import ChunkTable, QuerySet
from eval.bench.levers.score import Figures, FusionConfig, top
from eval.metrics import collapse_ranking, mrr_at_k, ndcg_at_k, recall_at_k
from rag.retrieve.fusion import FusionMethod, convex, rrf
from rag.store.bm25 import DEFAULT_PARAMS, BM25Index

FEATURES = ("fused", "dense_minmax", "bm25_minmax", "dense_cosine", "bm25_over_best", "dense_inv_rank",
            "bm25_inv_rank", "fused_inv_rank", "title_overlap")
FOLDS = 5
SEED = 12


@dataclass(frozen=True)
class Candidates:
    docs: np.ndarray  # document positions (ChunkTable.doc_ids), fused order
    x: np.ndarray  # (docs, FEATURES)


class FeatureMaker:
    """Per-query candidate documents and their features, from the fused chunk lists."""

    def __init__(self, chunks: ChunkTable, cfg: FusionConfig) -> None:
        self.chunks, self.cfg = chunks, cfg
        self._tok = BM25Index(None, np.zeros(0, dtype=np.int64), DEFAULT_PARAMS)
        titles: dict[int, str] = {}
        for i, d in enumerate(chunks.doc_index):
            titles.setdefault(int(d), chunks.titles[i])
        order = sorted(titles)
        self.title_terms = dict(zip(order, (set(t) for t in self._tok.tokenize([titles[d] for d in order]))))

    def make(self, text: str, dense: np.ndarray, bm25: np.ndarray) -> Candidates:
        cfg, doc_index = self.cfg, self.chunks.doc_index
        d_hits = top(dense, cfg.dense_depth, positive=False)
        b_hits = top(bm25, cfg.bm25_depth, positive=True)
        if cfg.fusion is FusionMethod.RRF:
            fused = rrf([[i for i, _ in d_hits], [i for i, _ in b_hits]], [cfg.dense_weight, cfg.bm25_weight], cfg.rrf_k)
        else:
            fused = convex([d_hits, b_hits], [cfg.dense_weight, cfg.bm25_weight])
        best: dict[int, float] = {}
        dcos: dict[int, float] = {}
        dbm: dict[int, float] = {}
        for cid, f in fused:  # every candidate chunk's cosine and BM25 score (the product has both)
            d = int(doc_index[cid])
            best.setdefault(d, f)
            dcos[d] = max(dcos.get(d, -1.0), float(dense[cid]))
            dbm[d] = max(dbm.get(d, 0.0), float(bm25[cid]))
        docs = np.array(list(best), dtype=np.int64)
        cos = np.array([dcos[d] for d in docs])
        bm = np.array([dbm[d] for d in docs])
        dense_rank = {d: r for r, d in enumerate(sorted(docs.tolist(), key=lambda d: -dcos[d]), start=1)}
        bm_rank = {d: r for r, d in enumerate(sorted(docs.tolist(), key=lambda d: -dbm[d]), start=1)}
        q_terms = set(self._tok.tokenize([text])[0])
        x = np.column_stack([
            [best[d] for d in docs], _minmax(cos), _minmax(bm), cos, bm / max(bm.max(), 1e-9),
            [1 / dense_rank[d] for d in docs], [1 / bm_rank[d] if dbm[d] > 0 else 0.0 for d in docs],
            1 / np.arange(1, len(docs) + 1),
            [len(q_terms & self.title_terms[d]) / max(len(q_terms), 1) for d in docs],
        ])
        return Candidates(docs, x)


def _minmax(v: np.ndarray) -> np.ndarray:
    lo, hi = v.min(), v.max()
    return (v - lo) / (hi - lo) if hi > lo else np.ones_like(v)


def _labels(c: Candidates, chunks: ChunkTable, qrels: dict[str, int]) -> np.ndarray:
    return np.array([1.0 if qrels.get(chunks.doc_ids[d], 0) > 0 else 0.0 for d in c.docs])


def _figures(rankings: list[list[str]], qs: QuerySet, ms: list[float]) -> Figures:
    n = len(qs.qrels)
    return Figures(sum(ndcg_at_k(r, q, 10) for r, q in zip(rankings, qs.qrels)) / n,
                   sum(recall_at_k(r, q, 100) for r, q in zip(rankings, qs.qrels)) / n,
                   sum(mrr_at_k(r, q, 10) for r, q in zip(rankings, qs.qrels)) / n, ms)


def _fit(cands: list[Candidates], ys: list[np.ndarray], c: float) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415 - benchmark only

    m = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
    m.fit(np.vstack([k.x for k in cands]), np.concatenate(ys))
    return m.coef_[0].copy(), float(m.intercept_[0])


def _rank(c: Candidates, chunks: ChunkTable, w: np.ndarray, b: float) -> list[str]:
    order = np.argsort(-(c.x @ w + b), kind="stable")
    return collapse_ranking(chunks.doc_ids[int(d)] for d in c.docs[order])


def learned_rescorer(chunks: ChunkTable, cfg: FusionConfig, dense: dict[str, np.ndarray], bm25: dict[str, np.ndarray],
                     tune: QuerySet, report: QuerySet, c: float = 0.1) -> tuple[Figures, Figures, dict[str, float]]:
    """(tune figures, 5-fold cross-validated; report figures, fitted on all of tune; coefficients)."""
    maker = FeatureMaker(chunks, cfg)
    tc = [maker.make(q, dense["tune"][i], bm25["tune"][i]) for i, q in enumerate(tune.texts)]
    ty = [_labels(k, chunks, q) for k, q in zip(tc, tune.qrels)]
    folds = np.random.default_rng(SEED).permutation(len(tc)) % FOLDS
    ranked: list[list[str]] = [[] for _ in tc]
    for f in range(FOLDS):
        train = [i for i in range(len(tc)) if folds[i] != f]
        w, b = _fit([tc[i] for i in train], [ty[i] for i in train], c)
        for i in np.flatnonzero(folds == f):
            ranked[i] = _rank(tc[i], chunks, w, b)
    w, b = _fit(tc, ty, c)
    ms, rep = [], []
    for i, q in enumerate(report.texts):
        t = time.perf_counter()
        rep.append(_rank(maker.make(q, dense["report"][i], bm25["report"][i]), chunks, w, b))
        ms.append((time.perf_counter() - t) * 1000)
    return _figures(ranked, tune, []), _figures(rep, report, ms), dict(zip(FEATURES + ("intercept",), [*w, b]))


def rocchio(vectors: np.ndarray, queries: np.ndarray, k: int, beta: float) -> tuple[np.ndarray, list[float]]:
    """Dense scores after one round of feedback, and the per-query ms of the feedback step."""
    out, ms = np.empty((len(queries), len(vectors)), dtype=np.float32), []
    for i, q in enumerate(queries):
        t = time.perf_counter()
        first = vectors @ q
        fb = np.argpartition(-first, k - 1)[:k]
        q2 = q + beta * vectors[fb].mean(axis=0)
        out[i] = vectors @ (q2 / np.linalg.norm(q2))
        ms.append((time.perf_counter() - t) * 1000)
    return out, ms
