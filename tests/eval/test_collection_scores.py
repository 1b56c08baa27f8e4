"""The score matrices `rag eval train-encoder` chooses its settings with: the grouped folds and the BM25 scorer.

(That the fused ranking equals the product's on a real collection: tests/eval/test_runner.py.)
"""

from __future__ import annotations

import numpy as np

from eval.collection_scores import (
    FOLDS,
    Bm25Scorer,
    ChunkTable,
    FusionConfig,
    QuerySet,
    folds_by_shared_document,
    rank_documents,
    subset,
)
from rag.retrieve.fusion import FusionMethod


def _table(n_docs: int) -> ChunkTable:
    """Two chunks per document; document d's title is the word `topicd`."""
    doc_index = np.repeat(np.arange(n_docs), 2)
    vectors = np.eye(2 * n_docs, dtype=np.float32)
    return ChunkTable(row_ids=np.arange(2 * n_docs), doc_index=doc_index, doc_ids=tuple(f"d{i}" for i in range(n_docs)),
                      titles=tuple(f"topic{d}" for d in doc_index), texts=tuple(f"text {i}" for i in range(2 * n_docs)),
                      vectors=vectors)


def test_queries_sharing_a_relevant_document_never_straddle_folds() -> None:
    rng = np.random.default_rng(3)
    rel = rng.integers(0, 200, size=120)
    # every third query also cites the next query's document: chains of shared documents must stay together
    qrels = tuple({f"d{d}": 1, **({f"d{rel[i + 1]}": 1} if i % 3 == 0 and i + 1 < len(rel) else {})}
                  for i, d in enumerate(rel))
    qs = QuerySet("tune", tuple(f"q{i}" for i in range(120)), ("",) * 120, qrels)
    folds = folds_by_shared_document(qs)
    assert set(folds.tolist()) == set(range(FOLDS))
    for i, q in enumerate(qrels):
        for j, other in enumerate(qrels):
            if set(q) & set(other):
                assert folds[i] == folds[j]
    assert np.array_equal(folds, folds_by_shared_document(qs))  # drawn once: the same folds every run
    part = subset(qs, np.flatnonzero(folds == 0), "held-out")
    assert part.qids == tuple(qs.qids[i] for i in np.flatnonzero(folds == 0))


def test_bm25_scores_every_chunk_with_its_title_and_fusion_ranks_documents() -> None:
    chunks = _table(4)
    scores = Bm25Scorer(chunks).scores("topic2")
    assert scores.shape == (8,) and set(np.flatnonzero(scores > 0).tolist()) == {4, 5}
    assert not Bm25Scorer(chunks).scores("nothing-like-it").any()
    dense = chunks.vectors[1]  # closest to document 0's second chunk
    cfg = FusionConfig(fusion=FusionMethod.CONVEX, dense_weight=0.45, bm25_weight=0.55)
    ranking = rank_documents(dense, scores, cfg, chunks)
    assert ranking[:2] == ["d2", "d0"] and len(ranking) == len(set(ranking))
    assert rank_documents(dense, scores, cfg.with_(bm25_weight=0.0), chunks)[0] == "d0"
