"""The retrieval table's query-time models: dense feedback and the cross-validated learned re-scorer."""

from __future__ import annotations

import numpy as np

from eval.bench.levers.data import ChunkTable, QuerySet
from eval.bench.levers.learned import FEATURES, FeatureMaker, learned_rescorer, rocchio
from eval.bench.levers.score import FusionConfig
from rag.retrieve.fusion import FusionMethod


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _table(n_docs: int, rng: np.random.Generator) -> ChunkTable:
    """Two chunks per document; document d's title is the word `topicd`."""
    doc_index = np.repeat(np.arange(n_docs), 2)
    return ChunkTable(row_ids=np.arange(2 * n_docs), doc_index=doc_index,
                      doc_ids=tuple(f"d{d}" for d in range(n_docs)),
                      titles=tuple(f"topic{d}" for d in doc_index), texts=tuple(f"text {i}" for i in range(2 * n_docs)),
                      vectors=_unit(rng.normal(size=(2 * n_docs, 8))))


def test_rocchio_without_feedback_weight_is_the_plain_dense_search() -> None:
    rng = np.random.default_rng(0)
    vectors, queries = _unit(rng.normal(size=(30, 8))), _unit(rng.normal(size=(4, 8)))
    plain, ms = rocchio(vectors, queries, k=3, beta=0.0)
    assert np.allclose(plain, queries @ vectors.T, atol=1e-6) and len(ms) == 4
    fed, _ = rocchio(vectors, queries, k=3, beta=1.0)
    top3 = np.argsort(-(vectors @ queries[0]))[:3]
    q2 = queries[0] + vectors[top3].mean(axis=0)
    assert np.allclose(fed[0], vectors @ (q2 / np.linalg.norm(q2)), atol=1e-6)


def test_features_cover_the_fused_candidates_in_fused_order() -> None:
    rng = np.random.default_rng(1)
    chunks = _table(20, rng)
    cfg = FusionConfig(fusion=FusionMethod.CONVEX, dense_weight=0.5, bm25_weight=0.5, dense_depth=6, bm25_depth=6)
    dense = chunks.vectors @ chunks.vectors[4]  # chunk 4 (document 2) is the query itself
    bm25 = np.zeros(chunks.size, dtype=np.float32)
    bm25[[10, 11]] = [3.0, 1.0]  # document 5 matches by keyword only
    c = FeatureMaker(chunks, cfg).make("topic2 claim", dense, bm25)
    assert c.x.shape == (len(c.docs), len(FEATURES)) and c.docs[0] == 2
    assert 5 in c.docs.tolist() and len(set(c.docs.tolist())) == len(c.docs)
    col = dict(zip(FEATURES, c.x.T))
    assert np.all(np.diff(col["fused"]) <= 1e-9)  # fused order
    assert col["title_overlap"][0] == 0.5 and col["title_overlap"][c.docs.tolist().index(5)] == 0.0
    assert col["bm25_over_best"][c.docs.tolist().index(5)] == 1.0


def test_learned_rescorer_learns_a_signal_fusion_ignores() -> None:
    """Relevance follows the title, which neither list sees: cross-validated, the model still finds it."""
    rng = np.random.default_rng(2)
    chunks = _table(40, rng)
    cfg = FusionConfig(fusion=FusionMethod.CONVEX, dense_weight=0.5, bm25_weight=0.5, dense_depth=20, bm25_depth=20)

    def part(name: str, n: int) -> tuple[QuerySet, np.ndarray, np.ndarray]:
        rel = rng.integers(0, 40, size=n)
        texts = tuple(f"topic{d} question" for d in rel)
        dense = rng.normal(size=(n, chunks.size)).astype(np.float32)
        bm25 = np.abs(rng.normal(size=(n, chunks.size))).astype(np.float32)
        return QuerySet(name, tuple(f"q{i}" for i in range(n)), texts, tuple({f"d{d}": 1} for d in rel)), dense, bm25

    tune, td, tb = part("tune", 60)
    report, rd, rb = part("report", 20)
    t, r, coef = learned_rescorer(chunks, cfg, {"tune": td, "report": rd}, {"tune": tb, "report": rb}, tune, report, 1.0)
    assert coef["title_overlap"] == max(v for k, v in coef.items() if k != "intercept")
    # every query whose document is among the candidates gets it first
    assert t.mrr10 > 0.9 * t.recall100 and r.mrr10 > 0.9 * r.recall100 and len(r.query_ms) == 20


def test_query_adapter_learns_a_rotation_and_groups_claims_by_shared_abstract() -> None:
    from eval.bench.levers import adapter

    rng = np.random.default_rng(3)
    chunks = _table(200, rng)
    rot = np.linalg.qr(rng.normal(size=(8, 8)))[0]
    rel = rng.integers(0, 200, size=120)
    # each claim is its abstract's first chunk seen through a fixed rotation, plus noise
    queries = _unit(chunks.vectors[2 * rel] @ rot.T + 0.05 * rng.normal(size=(120, 8)))
    qs = QuerySet("tune", tuple(f"q{i}" for i in range(120)), ("",) * 120, tuple({f"d{d}": 1} for d in rel))
    pos = adapter.positives(chunks, qs)
    assert all(set(p.tolist()) == {2 * d, 2 * d + 1} for p, d in zip(pos, rel))
    folds = adapter.folds_by_shared_document(qs)
    for d in set(rel.tolist()):
        assert len(set(folds[rel == d].tolist())) == 1  # claims on one abstract never straddle folds
    cfg = adapter.AdapterConfig(l2=1e-4, steps=200, lr=1e-2)

    def hit1(q: np.ndarray) -> float:
        return float(np.mean(chunks.doc_index[np.argmax(q @ chunks.vectors.T, axis=1)] == rel))

    adapted = adapter.cross_validated(chunks.vectors, queries, pos, adapter.folds_by_query(120), cfg)
    assert hit1(adapted) > hit1(queries) + 0.3
    assert np.allclose(np.linalg.norm(adapted, axis=1), 1.0, atol=1e-5)
