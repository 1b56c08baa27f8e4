"""Our hand-written retrieval metrics against pytrec_eval (trec_eval's C code) on a real ranking.

The run is real: the product's BM25 index over the first 1,000 SciFact abstracts, asked the train
claims whose abstracts are among them, depth 100. A second pass grades the same qrels 1-3 so the
linear-gain nDCG (BEIR's convention) is checked on graded relevance too. Both must agree to 1e-6.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import pytrec_eval

from eval.adapters import load_beir
from eval.metrics import K_VALUES, retrieval_scores
from rag.store.bm25 import BM25Index

SCIFACT = Path(__file__).resolve().parents[2].parent / "shared" / "eval" / "scifact"
MEASURES = {"ndcg_cut.10", "recip_rank", "recall." + ",".join(map(str, K_VALUES)),
            "success." + ",".join(map(str, K_VALUES))}


@pytest.fixture(scope="module")
def bm25_run() -> tuple[dict[str, list[str]], dict[str, dict[str, int]]]:
    if not SCIFACT.is_dir():
        pytest.fail(f"{SCIFACT} missing: the shared data must sit at ../shared beside the repository")
    evalset = load_beir(SCIFACT, "train", corpus_limit=1000)
    assert evalset.corpus is not None
    docs = evalset.corpus.documents
    index = BM25Index.build(np.arange(len(docs)), [f"{d.title}\n{d.text}" for d in docs])
    run: dict[str, list[str]] = {}
    for q in evalset.questions:
        _, rows = index.search(q.text, 100)
        run[q.qid] = [docs[int(r)].doc_id for r in rows]
    return run, {q.qid: dict(q.relevant) for q in evalset.questions}


def _trec(run: dict[str, list[str]], qrels: dict[str, dict[str, int]], depth: int | None = None) -> dict:
    # trec_eval sorts by score and breaks ties by doc id: give strictly falling scores in our order
    scored = {q: {d: float(len(ids) - i) for i, d in enumerate(ids[:depth])} for q, ids in run.items()}
    return pytrec_eval.RelevanceEvaluator(qrels, MEASURES).evaluate(scored)


def _check(run: dict[str, list[str]], qrels: dict[str, dict[str, int]]) -> int:
    full = _trec(run, qrels)
    top10 = _trec(run, qrels, depth=10)  # trec_eval's recip_rank has no cut-off: MRR@10 = run cut at 10
    for qid, ranked in run.items():
        ours = retrieval_scores(ranked, qrels[qid])
        assert ours["ndcg@10"] == pytest.approx(full[qid]["ndcg_cut_10"], abs=1e-6), qid
        assert ours["mrr@10"] == pytest.approx(top10[qid]["recip_rank"], abs=1e-6), qid
        for k in K_VALUES:
            assert ours[f"recall@{k}"] == pytest.approx(full[qid][f"recall_{k}"], abs=1e-6), (qid, k)
            assert ours[f"hit@{k}"] == pytest.approx(full[qid][f"success_{k}"], abs=1e-6), (qid, k)
    return len(run)


def test_binary_qrels_agree_with_trec_eval(bm25_run) -> None:
    run, qrels = bm25_run
    assert _check(run, qrels) >= 100  # enough real queries that every branch is exercised
    assert any(run[q][0] in qrels[q] for q in run) and any(not set(run[q][:10]) & set(qrels[q]) for q in run)


def test_graded_qrels_agree_with_trec_eval(bm25_run) -> None:
    run, qrels = bm25_run
    rng = random.Random(0)
    graded = {q: {d: rng.randint(1, 3) for d in rel} for q, rel in qrels.items()}
    # a few unretrieved relevant ids and a zero-grade row, so IDCG and grade filtering are tested
    for q in list(graded)[:20]:
        graded[q][f"missing-{q}"] = 2
        graded[q][run[q][0]] = graded[q].get(run[q][0], 0)
    _check(run, graded)
