"""Search latency, build time and memory of the product's FAISS (flat vs HNSW) and BM25 indexes at scale.

    HF_HUB_OFFLINE=1 .venv/bin/python -m eval.bench.scale                      # 10k, 100k, 1M chunks
    HF_HUB_OFFLINE=1 .venv/bin/python -m eval.bench.scale --sizes 10000,100000 --bm25-sizes 10000

Vectors are synthetic, 384-d and L2-normalised like MiniLM's, drawn around 1,000 random centres
(real embeddings are clustered; uniform random vectors in 384-d are the worst case for HNSW, so
`--spread uniform` shows that bound). Queries are perturbed copies of stored vectors. Recall@10 of
HNSW is measured against the exact flat index. BM25 texts are sampled from SciFact's word
frequencies (150 words, about one 200-token chunk); its queries are SciFact's real queries.
Latency is one query at a time, as user queries arrive; memory is the index file size (what the
index holds in RAM) and the process RSS growth during the build (allocator noise included).
The classes are the product's own: rag.store.vectors.FaissVectorIndex and rag.store.bm25.BM25Index.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench.common import SCIFACT, lat, read_jsonl, rss_mb, table, time_each, write_result

DIM = 384
CENTRES = 1000
NOISE = 0.05  # per-dimension sigma: a point's cosine to its centre is about 0.7
WORDS_PER_TEXT = 150
BATCH = 100_000


def synthetic_vectors(n: int, rng: np.random.Generator, spread: str) -> np.ndarray:
    centres = rng.standard_normal((CENTRES, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    out = np.empty((n, DIM), dtype=np.float32)
    for i in range(0, n, BATCH):  # in slices: 1M x 384 float32 is 1.5 GB, temporaries double it
        m = min(BATCH, n - i)
        x = rng.standard_normal((m, DIM)).astype(np.float32)
        if spread == "clustered":
            x = centres[rng.integers(0, CENTRES, m)] + NOISE * x
        out[i : i + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def perturbed_queries(vectors: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    q = vectors[rng.integers(0, len(vectors), n)] + NOISE * rng.standard_normal((n, DIM)).astype(np.float32)
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


def bench_vectors(kind: str, vectors: np.ndarray, queries: np.ndarray, exact: np.ndarray | None) -> dict[str, Any]:
    from rag.store.vectors import FaissVectorIndex  # noqa: PLC0415

    rss0 = rss_mb()
    t = time.perf_counter()
    index = FaissVectorIndex.create(DIM, kind)
    ids = np.arange(len(vectors), dtype=np.int64)
    for i in range(0, len(vectors), BATCH):
        index.add(ids[i : i + BATCH], vectors[i : i + BATCH])
    build_s = time.perf_counter() - t
    rss = rss_mb() - rss0
    found: list[np.ndarray] = []
    ms = time_each(lambda q: found.append(index.search(q, 10)[1]), queries)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vectors.faiss"
        index.save(path)
        size_mb = path.stat().st_size / 1e6
    row: dict[str, Any] = {"index": f"faiss-{kind}", "chunks": len(vectors), "build_s": round(build_s, 2),
                           **{k: v for k, v in lat(ms).items() if k in ("p50_ms", "p95_ms")},
                           "file_mb": round(size_mb, 1), "rss_growth_mb": round(rss, 1)}
    if exact is not None:
        row["recall@10"] = round(float(np.mean([len(set(f) & set(e)) / 10 for f, e in zip(found, exact)])), 4)
    del index
    return row


def exact_top10(vectors: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Ground truth by brute force in blocks (numpy matmul), independent of FAISS."""
    best_s = np.full((len(queries), 10), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), 10), dtype=np.int64)
    for i in range(0, len(vectors), BATCH):
        s = queries @ vectors[i : i + BATCH].T
        idx = np.argpartition(-s, 10, axis=1)[:, :10] if s.shape[1] > 10 else np.argsort(-s, axis=1)[:, :10]
        cand_s = np.concatenate([best_s, np.take_along_axis(s, idx, 1)], axis=1)
        cand_i = np.concatenate([best_i, idx + i], axis=1)
        order = np.argsort(-cand_s, axis=1)[:, :10]
        best_s, best_i = np.take_along_axis(cand_s, order, 1), np.take_along_axis(cand_i, order, 1)
    return best_i


def scifact_words(docs: int) -> tuple[np.ndarray, np.ndarray]:
    counts: Counter[str] = Counter()
    for row in read_jsonl(SCIFACT / "corpus.jsonl", docs):
        counts.update(re.findall(r"[A-Za-z][A-Za-z0-9-]+", f"{row.get('title', '')} {row['text']}"))
    words = np.array(list(counts))
    freq = np.array([counts[w] for w in words], dtype=np.float64)
    return words, freq / freq.sum()


def bench_bm25(n: int, words: np.ndarray, p: np.ndarray, queries: list[str], rng: np.random.Generator) -> dict[str, Any]:
    from rag.store.bm25 import BM25Index  # noqa: PLC0415

    texts: list[str] = []
    for i in range(0, n, BATCH):
        sample = rng.choice(len(words), size=(min(BATCH, n - i), WORDS_PER_TEXT), p=p)
        texts += [" ".join(words[r]) for r in sample]
    rss0 = rss_mb()
    t = time.perf_counter()
    index = BM25Index.build(np.arange(n, dtype=np.int64), texts)
    build_s = time.perf_counter() - t
    del texts
    rss = rss_mb() - rss0
    ms = time_each(lambda q: index.search(q, 50), queries)
    with tempfile.TemporaryDirectory() as tmp:
        index.save(Path(tmp))
        size_mb = sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file()) / 1e6
    return {"index": "bm25", "chunks": n, "build_s": round(build_s, 2),
            **{k: v for k, v in lat(ms).items() if k in ("p50_ms", "p95_ms")},
            "file_mb": round(size_mb, 1), "rss_growth_mb": round(rss, 1)}


def _sizes(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000", help="vector counts (comma-separated)")
    ap.add_argument("--hnsw-sizes", default=None, help="sizes to build HNSW at (default: --sizes)")
    ap.add_argument("--bm25-sizes", default="10000,100000,1000000",
                    help="chunk counts for BM25 (1M takes minutes and several GB while tokenising)")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--spread", choices=("clustered", "uniform"), default="clustered")
    ap.add_argument("--threads", type=int, default=None, help="FAISS OpenMP threads (default: FAISS's)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="JSON result file")
    a = ap.parse_args()
    import faiss  # noqa: PLC0415

    if a.threads:
        faiss.omp_set_num_threads(a.threads)
    rng = np.random.default_rng(a.seed)
    hnsw_sizes = set(_sizes(a.hnsw_sizes)) if a.hnsw_sizes is not None else set(_sizes(a.sizes))
    rows: list[dict[str, Any]] = []
    for n in _sizes(a.sizes):
        vectors = synthetic_vectors(n, rng, a.spread)
        queries = perturbed_queries(vectors, a.queries, rng)
        exact = exact_top10(vectors, queries)
        rows.append(bench_vectors("flat", vectors, queries, exact))
        print(table(rows[-1:], list(rows[-1])), flush=True)
        if n in hnsw_sizes:
            rows.append(bench_vectors("hnsw", vectors, queries, exact))
            print(table(rows[-1:], list(rows[-1])), flush=True)
        del vectors
    if a.bm25_sizes:
        words, p = scifact_words(5183)
        texts = [r["text"] for r in read_jsonl(SCIFACT / "queries.jsonl", a.queries)]
        for n in _sizes(a.bm25_sizes):
            rows.append(bench_bm25(n, words, p, texts, rng))
            print(table(rows[-1:], list(rows[-1])), flush=True)
    cols = ["index", "chunks", "build_s", "p50_ms", "p95_ms", "recall@10", "file_mb", "rss_growth_mb"]
    print("\n" + table(rows, cols))
    path = write_result("scale", {"args": vars(a) | {"out": str(a.out)}, "threads": faiss.omp_get_max_threads(),
                                  "rows": rows}, a.out)
    print(f"\nwritten: {path}")


if __name__ == "__main__":
    main()
