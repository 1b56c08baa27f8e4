"""The retrieval table's rows that embed text of their own (real encoder): the sentence list (sentences
grouped by chunk; the chunk whose one sentence restates the claim is lifted) and the title rows."""

from __future__ import annotations

import numpy as np

from eval.bench.levers.data import ChunkTable, QuerySet
from eval.bench.levers.score import FusionConfig
from eval.bench.levers.sentences import embed_sentences, evaluate
from rag.retrieve.fusion import FusionMethod

TEXTS = (
    "Vitamin D levels were measured in 300 adults. The cohort was followed for ten years.",
    "Patients were recruited in three hospitals. Smoking doubles the risk of lung cancer in women. "
    "Follow-up lasted five years.",
    "The trial enrolled children. No adverse events were reported.",
)
CLAIM = "Smoking doubles the risk of lung cancer in women."


def test_sentences_are_grouped_by_chunk_and_the_restating_chunk_is_lifted(embedder) -> None:
    chunks = ChunkTable(row_ids=np.arange(3), doc_index=np.arange(3), doc_ids=("a", "b", "c"),
                        titles=("", "", ""), texts=TEXTS, vectors=np.zeros((3, embedder.dim), np.float32))
    table = embed_sentences(chunks, embedder)
    assert [int(e - s) for s, e in zip(table.starts, table.ends)] == [2, 3, 2]
    q = embedder.encode_query(CLAIM)
    assert table.best(q, 1) > 0.95 > max(table.best(q, 0), table.best(q, 2))  # its own sentence, alone

    # dense and BM25 put chunk "a" first and the restating chunk "b" a close second
    dense = np.array([[0.60, 0.59, 0.10]], np.float32)
    bm25 = np.array([[5.0, 4.9, 1.0]], np.float32)
    qs = QuerySet("tune", ("q",), (CLAIM,), ({"b": 1},))
    cfg = FusionConfig(fusion=FusionMethod.CONVEX, dense_weight=0.45, bm25_weight=0.55)
    without = evaluate(dense, bm25, q[None, :], cfg, chunks, table, qs, depth=3, weight=0.0)
    with_list = evaluate(dense, bm25, q[None, :], cfg, chunks, table, qs, depth=3, weight=0.8)
    assert without.mrr10 == 0.5 and with_list.mrr10 == 1.0
    # depth 1 re-scores only "a": the list cannot lift "b"
    assert evaluate(dense, bm25, q[None, :], cfg, chunks, table, qs, depth=1, weight=0.8).mrr10 == 0.5


def test_title_vectors_embed_each_chunk_alone_and_one_title_per_document(embedder) -> None:
    from eval.bench.levers.titles import embed_titles, evaluate_title_list

    chunks = ChunkTable(row_ids=np.arange(3), doc_index=np.array([0, 0, 1]), doc_ids=("a", "b"),
                        titles=("Smoking and lung cancer", "Smoking and lung cancer", "Vitamin D"), texts=TEXTS,
                        vectors=np.zeros((3, embedder.dim), np.float32))
    tv = embed_titles(chunks, embedder)
    assert tv.first_chunk.tolist() == [0, 2] and tv.titles.shape == (2, embedder.dim)
    assert float(tv.untitled[1] @ embedder.encode([TEXTS[1]])[0]) > 0.999  # the text alone, no title
    q = embedder.encode_query("Vitamin D")
    assert float(tv.titles[1] @ q) > 0.95 > float(tv.titles[0] @ q)
    # the title list lifts document "b" (its title is the query) over "a", which dense and BM25 prefer
    dense = np.array([[0.60, 0.20, 0.59]], np.float32)
    bm25 = np.array([[5.0, 1.0, 4.9]], np.float32)
    qs = QuerySet("tune", ("q",), ("Vitamin D",), ({"b": 1},))
    cfg = FusionConfig(fusion=FusionMethod.CONVEX, dense_weight=0.45, bm25_weight=0.55)
    assert evaluate_title_list(dense, bm25, q[None, :], cfg, chunks, tv, qs, weight=0.0).mrr10 == 0.5
    assert evaluate_title_list(dense, bm25, q[None, :], cfg, chunks, tv, qs, weight=0.8).mrr10 == 1.0
