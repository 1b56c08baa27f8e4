"""Ingest throughput (documents/s, chunks/s, embedding tokens/s, share of the FLOP limit) and re-index time.

    HF_HUB_OFFLINE=1 .venv/bin/python -m eval.bench.ingest                         # sample + SciFact, 3 repeats
    HF_HUB_OFFLINE=1 .venv/bin/python -m eval.bench.ingest --corpora sample --repeats 1
    HF_HUB_OFFLINE=1 .venv/bin/python -m eval.bench.ingest --corpora scifact --limit 300 --repeats 1

Each repeat indexes the corpus into a fresh collection (empty embedding cache) through the
product's index_paths, with the model loaded once beforehand (model load is reported apart).
Figures are the median over repeats. "One-document change" then edits one record of the indexed
SciFact copy per repeat and times the incremental re-index against the full index (median). FLOP figures:
see eval/bench/flops.py for the formula.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from eval.bench.common import REPO, SCIFACT, median, table, write_result
from eval.bench.flops import encoder_shape, gemm_gflops


def embedded_tokens(collection_db: Path) -> tuple[int, int]:
    """(word pieces embedded, chunks): distinct embedding inputs only, as the indexer embeds each once."""
    conn = sqlite3.connect(f"file:{collection_db}?mode=ro", uri=True)
    try:
        tokens = conn.execute("SELECT SUM(t) FROM (SELECT MAX(n_tokens) t FROM chunks GROUP BY emb_key)").fetchone()[0]
        chunks = conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    finally:
        conn.close()
    return int(tokens or 0), int(chunks)


def one_ingest(paths: list[Path], embedder: Any, tmp: Path, tag: str, keep: bool = False) -> dict[str, float]:
    from rag.pipeline.indexer import index_paths  # noqa: PLC0415
    from rag.settings import Settings  # noqa: PLC0415
    from rag.store.collection import Collection  # noqa: PLC0415

    settings = Settings(index_dir=tmp, collection=tag)
    shutil.rmtree(settings.collection_dir, ignore_errors=True)
    t = time.perf_counter()
    report = index_paths(paths, settings, embedder=embedder)
    total = time.perf_counter() - t
    tokens, chunks = embedded_tokens(Collection(settings.collection_dir).db_path)
    docs = report.documents_added
    if not keep:
        shutil.rmtree(settings.collection_dir, ignore_errors=True)
    return {"documents": docs, "chunks": chunks, "tokens": tokens, "total_s": total,
            "embed_s": report.seconds.get("embed", 0.0), "chunk_s": report.seconds.get("chunk", 0.0),
            "store_s": report.seconds.get("store", 0.0), "load_s": report.seconds.get("load", 0.0)}


def throughput(name: str, paths: list[Path], embedder: Any, repeats: int, tmp: Path, gflops: float,
               shape: Any, keep_last_as: str | None = None) -> dict[str, Any]:
    runs = []
    for r in range(repeats):
        last = r == repeats - 1 and keep_last_as is not None
        runs.append(one_ingest(paths, embedder, tmp, keep_last_as if last else f"bench-{name}-{r}", keep=last))
        print(f"  {name} repeat {r + 1}/{repeats}: {runs[-1]['total_s']:.1f}s", flush=True)
    m = {k: median([x[k] for x in runs]) for k in runs[0]}
    mean_len = m["tokens"] / m["chunks"] if m["chunks"] else 0.0
    tok_s = m["tokens"] / m["embed_s"] if m["embed_s"] else 0.0
    achieved = tok_s * shape.flops_per_token(mean_len) / 1e9
    return {"corpus": name, "documents": int(m["documents"]), "chunks": int(m["chunks"]), "tokens": int(m["tokens"]),
            "total_s": round(m["total_s"], 2), "embed_s": round(m["embed_s"], 2),
            "docs_per_s": round(m["documents"] / m["total_s"], 1), "chunks_per_s": round(m["chunks"] / m["total_s"], 1),
            "embed_tokens_per_s": round(tok_s), "mean_tokens_per_chunk": round(mean_len, 1),
            "embed_gflops": round(achieved, 2), "flop_share": round(achieved / gflops, 3), "repeats": repeats,
            "stage_s": {k: round(m[k], 2) for k in ("load_s", "chunk_s", "embed_s", "store_s")}}


REINDEX_COLLECTION = "bench-reindex"


def reindex_one_change(copy: Path, embedder: Any, repeats: int, tmp: Path) -> dict[str, Any]:
    """Per repeat, edit one record of the (already indexed) copy and time the incremental re-index.

    The collection is the one the last throughput repeat left behind: indexing SciFact once more
    just to have a starting point would cost as much as a whole repeat.
    """
    from rag.pipeline.indexer import index_paths  # noqa: PLC0415
    from rag.settings import Settings  # noqa: PLC0415

    lines = [x for x in copy.read_text(encoding="utf-8").splitlines() if x.strip()]
    settings = Settings(index_dir=tmp, collection=REINDEX_COLLECTION)
    t = time.perf_counter()
    index_paths([copy], settings, embedder=embedder)  # a no-op when the collection is there: timed as such
    unchanged = time.perf_counter() - t
    times, reports = [], []
    for r in range(repeats):
        i = (r * 997) % len(lines)  # a different record each time, spread through the file
        row = json.loads(lines[i])
        row["text"] = row["text"] + f" (Revised {r}.)"
        lines[i] = json.dumps(row)
        copy.write_text("\n".join(lines) + "\n", encoding="utf-8")
        t = time.perf_counter()
        rep = index_paths([copy], settings, embedder=embedder)
        times.append(time.perf_counter() - t)
        reports.append({"added": rep.documents_added, "removed": rep.documents_removed,
                        "embedded": rep.chunks_embedded, "stages_s": {k: round(v, 3) for k, v in rep.seconds.items()}})
        print(f"  re-index after one change {r + 1}/{repeats}: {times[-1]:.2f}s", flush=True)
    shutil.rmtree(settings.collection_dir, ignore_errors=True)
    return {"documents": len(lines), "unchanged_reindex_s": round(unchanged, 3),
            "reindex_s_median": round(median(times), 3),
            "reindex_s_all": [round(x, 3) for x in times], "runs": reports}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpora", default="sample,scifact", help="comma-separated: sample, scifact")
    ap.add_argument("--data", type=Path, default=SCIFACT, help="SciFact (BEIR) folder holding corpus.jsonl")
    ap.add_argument("--limit", type=int, default=None, help="SciFact: only the first N documents (smoke test)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per figure; the median is reported")
    ap.add_argument("--skip-reindex", action="store_true", help="skip the one-document change measurement")
    ap.add_argument("--out", type=Path, default=None, help="JSON result file")
    a = ap.parse_args()
    if a.repeats < 1:
        ap.error("--repeats must be at least 1")
    import torch  # noqa: PLC0415

    from rag.embed.factory import make_encoder  # noqa: PLC0415
    from rag.settings import Settings  # noqa: PLC0415

    settings = Settings()
    t = time.perf_counter()
    embedder = make_encoder(settings, "document")
    model_load_s = time.perf_counter() - t
    threads = torch.get_num_threads()
    gflops = gemm_gflops(threads)
    shape = encoder_shape(settings.embedding_model)
    print(f"model load {model_load_s:.1f}s; fp32 GEMM limit {gflops:.1f} GFLOP/s on {threads} threads; "
          f"{shape.flops_per_token(128) / 1e6:.1f} MFLOP/token at 128 tokens", flush=True)
    corpora = {"sample": [REPO / "data" / "sample"]}
    rows, reindex = [], None
    with tempfile.TemporaryDirectory(prefix="rag-bench-ingest-") as tmpdir:
        tmp = Path(tmpdir)
        if "scifact" in a.corpora:
            src = a.data / "corpus.jsonl"
            if not src.is_file():
                ap.error(f"{src} not found: pass --data with SciFact's BEIR folder")
            # A private copy (sliced with --limit): the re-index step edits it.
            copy = tmp / "scifact" / "corpus.jsonl"
            copy.parent.mkdir(parents=True)
            copy.write_text("".join(src.read_text(encoding="utf-8").splitlines(keepends=True)[: a.limit]))
            corpora["scifact"] = [copy]
        for name in [c for c in a.corpora.split(",") if c]:
            if name not in corpora:
                ap.error(f"unknown corpus {name!r}: use sample and/or scifact")
            keep = REINDEX_COLLECTION if name == "scifact" and not a.skip_reindex else None
            rows.append(throughput(name, corpora[name], embedder, a.repeats, tmp, gflops, shape, keep))
        if "scifact" in corpora and not a.skip_reindex:
            reindex = reindex_one_change(corpora["scifact"][0], embedder, a.repeats, tmp)
    cols = ["corpus", "documents", "chunks", "total_s", "docs_per_s", "chunks_per_s", "embed_tokens_per_s",
            "embed_gflops", "flop_share"]
    print("\n" + table(rows, cols))
    if reindex:
        print(f"\none-document change on {reindex['documents']} documents: re-index "
              f"{reindex['reindex_s_median']}s (median of {a.repeats}; no-change re-run {reindex['unchanged_reindex_s']}s)")
    path = write_result("ingest", {
        "args": {k: str(v) for k, v in vars(a).items()}, "model": settings.embedding_model,
        "model_load_s": round(model_load_s, 2), "torch_threads": threads, "gemm_gflops": round(gflops, 2),
        "flops_per_token_at_128": shape.flops_per_token(128), "rows": rows, "one_document_change": reindex,
    }, a.out)
    print(f"written: {path}")


if __name__ == "__main__":
    main()
