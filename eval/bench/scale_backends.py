"""Local (FAISS HNSW + bm25s) vs Milvus Lite at scale: build time, memory, hybrid latency, recall.

    HF_HUB_OFFLINE=1 .venv/bin/python -m eval.bench.scale_backends --sizes 100000
    HF_HUB_OFFLINE=1 .venv/bin/python -m eval.bench.scale_backends --sizes 1000000 --backends local

Both sides are the product's own code: the local side is `LocalSearchIndex` over
`FaissVectorIndex` (HNSW) and `BM25Index`; the Milvus side is `MilvusBackend.stage` (the commit
path: batched upserts, BM25 function, HNSW, flush) and `MilvusSearchIndex`. A hybrid query is what
`HybridRetriever` asks of a store: dense top-50 + keyword top-50 (+ RRF, microseconds). Vectors are
synthetic (clustered, 384-d, as eval.bench.scale), texts are 60 words drawn from SciFact's word
frequencies, queries are SciFact's real queries with a perturbed stored vector. Recall@10 is the
dense list against exact search (numpy). Memory: the growth of this process's RSS plus that of
any child process (Milvus Lite runs its server in one) during the build.
`--keyword-only` times the keyword side alone: bm25s's own retrieve against BM25Index.search.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench.common import SCIFACT, lat, read_jsonl, rss_mb, table, time_each, write_result
from eval.bench.scale import BATCH, DIM, exact_top10, perturbed_queries, scifact_words, synthetic_vectors
from rag.retrieve.fusion import rrf

WORDS = 60
DEPTH = 50


def tree_rss_mb() -> float:
    """RSS of this process and its direct children (Milvus Lite's server), in MB."""
    total = rss_mb()
    me = str(os.getpid())
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
                if fh.read().rsplit(")", 1)[1].split()[1] != me:
                    continue
            with open(f"/proc/{pid}/status", encoding="ascii") as fh:
                total += next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024
        except (OSError, StopIteration, IndexError):
            continue
    return total


def texts_for(n: int, rng: np.random.Generator) -> list[str]:
    words, p = scifact_words(5183)
    out: list[str] = []
    for i in range(0, n, BATCH):
        sample = rng.choice(len(words), size=(min(BATCH, n - i), WORDS), p=p)
        out += [" ".join(words[r]) for r in sample]
    return out


class _NoFilters:
    def row_ids_where(self, filters):  # noqa: ANN001, ANN201
        raise AssertionError("the bench searches without filters")

    sources_matching = row_ids_where


def build_local(vectors: np.ndarray, texts: list[str]) -> Any:
    from rag.store.bm25 import BM25Index  # noqa: PLC0415
    from rag.store.local import LocalSearchIndex  # noqa: PLC0415
    from rag.store.vectors import FaissVectorIndex  # noqa: PLC0415

    ids = np.arange(len(vectors), dtype=np.int64)
    index = FaissVectorIndex.create(DIM, "hnsw")
    for i in range(0, len(vectors), BATCH):
        index.add(ids[i : i + BATCH], vectors[i : i + BATCH])
    return LocalSearchIndex(index, BM25Index.build(ids, texts), _NoFilters())


def build_milvus(vectors: np.ndarray, texts: list[str], folder: Path) -> Any:
    from rag.store.backend import ChangeSet, IndexRow  # noqa: PLC0415
    from rag.store.manifest import Manifest  # noqa: PLC0415
    from rag.store.milvus import MilvusBackend  # noqa: PLC0415

    manifest = Manifest(model="bench", dim=DIM, chunk_tokens=0, chunk_overlap_tokens=0, title_prefix=False,
                        fingerprint="bench", vector_index="hnsw", store="milvus")
    backend = MilvusBackend(str(folder / "milvus.db"), None, "rag_bench_1", "rag_bench", None)
    step = 50_000  # one ChangeSet per step bounds the driver's memory; stage upserts in batches inside
    for i in range(0, len(vectors), step):
        rows = [IndexRow(j, f"d{j}", texts[j], None, "/bench") for j in range(i, min(i + step, len(vectors)))]
        t = time.perf_counter()
        # the returned manifest records the BM25 parameters the collection was created with
        manifest = backend.stage(1, manifest, ChangeSet(added=rows, vectors=vectors[i : i + step]), rows=None)  # type: ignore[arg-type]
        print(f"  milvus: rows {i:,}-{i + len(rows):,} staged in {time.perf_counter() - t:.1f} s "
              f"(load {os.getloadavg()[0]:.1f})", flush=True)
    return backend.open_index(1, manifest, _NoFilters())


def measure(name: str, build: Any, vectors: np.ndarray, texts: list[str], qvecs: np.ndarray, qtexts: list[str],
            exact: np.ndarray) -> dict[str, Any]:
    rss0 = tree_rss_mb()
    t = time.perf_counter()
    index = build()
    build_s = time.perf_counter() - t
    rss = tree_rss_mb() - rss0
    found: list[np.ndarray] = []
    for q in qvecs:
        found.append(index.dense(q, 10).ids)
    pairs = list(zip(qvecs, qtexts))

    def hybrid(pair: tuple[np.ndarray, str]) -> None:
        d = index.dense(pair[0], DEPTH)
        b = index.keyword(pair[1], DEPTH)
        rrf([d.ids.tolist(), b.ids.tolist()], [1.0, 1.0], 60)

    hybrid(pairs[0])  # warm caches (Milvus loads segments on first search)
    ms = time_each(hybrid, pairs)
    kw = time_each(lambda p: index.keyword(p[1], DEPTH), pairs)
    recall = float(np.mean([len(set(f.tolist()) & set(e.tolist())) / 10 for f, e in zip(found, exact)]))
    return {"backend": name, "chunks": len(vectors), "build_s": round(build_s, 1),
            "hybrid_p50_ms": lat(ms)["p50_ms"], "hybrid_p95_ms": lat(ms)["p95_ms"],
            "keyword_p50_ms": lat(kw)["p50_ms"], "recall@10": round(recall, 4), "rss_growth_mb": round(rss)}


def keyword_only(n: int, texts: list[str], qtexts: list[str]) -> list[dict[str, Any]]:
    from rag.store.bm25 import BM25Index  # noqa: PLC0415

    t = time.perf_counter()
    index = BM25Index.build(np.arange(n, dtype=np.int64), texts)
    build_s = time.perf_counter() - t
    retriever = index._retriever  # noqa: SLF001 - bm25s's own retrieve is the baseline
    toks = [index.tokenize([q]) for q in qtexts]
    ours = time_each(lambda q: index.search(q, DEPTH), qtexts)
    theirs = time_each(lambda tk: retriever.retrieve(tk, k=DEPTH, show_progress=False, n_threads=1), toks)
    return [{"keyword": "bm25s retrieve (before)", "chunks": n, "build_s": round(build_s, 1), **lat(theirs)},
            {"keyword": "BM25Index.search (bincount top-k)", "chunks": n, "build_s": round(build_s, 1), **lat(ours)}]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000")
    ap.add_argument("--backends", default="local,milvus")
    ap.add_argument("--keyword-only", action="store_true")
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    qtexts = [r["text"] for r in read_jsonl(SCIFACT / "queries.jsonl", a.queries)]
    rows: list[dict[str, Any]] = []
    for n in [int(x) for x in a.sizes.split(",")]:
        texts = texts_for(n, rng)
        if a.keyword_only:
            rows += keyword_only(n, texts, qtexts)
            print(table(rows[-2:], list(rows[-1])), flush=True)
            continue
        vectors = synthetic_vectors(n, rng, "clustered")
        qvecs = perturbed_queries(vectors, len(qtexts), rng)
        exact = exact_top10(vectors, qvecs)
        for name in a.backends.split(","):
            with tempfile.TemporaryDirectory() as tmp:
                build = (lambda: build_local(vectors, texts)) if name == "local" else (
                    lambda: build_milvus(vectors, texts, Path(tmp)))
                rows.append(measure(name, build, vectors, texts, qvecs, qtexts, exact))
            print(table(rows[-1:], list(rows[-1])), flush=True)
    print("\n" + table(rows, list(rows[0])))
    path = write_result("scale_backends", {"args": vars(a) | {"out": str(a.out)}, "rows": rows}, a.out)
    print(f"\nwritten: {path}")


if __name__ == "__main__":
    main()
