"""Ingest throughput of `rag index --engine ray` against the local engine, in the same run.

    HF_HUB_OFFLINE=1 .venv/bin/python -m eval.bench.ray_ingest --docs 0 [--workers 2]   (0 = all 5,183)

Both index the first N SciFact abstracts into fresh collections (sentence vectors off: chunk
embedding is the work compared), the local engine first, then Ray (local Ray on 127.0.0.1, started
inside the timed run: its start-up is part of what a user waits for, and is also reported alone).
The chunk ids and embedding keys of the two collections are compared.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from eval.bench.common import SCIFACT, read_jsonl, table, write_result


def _chunks(collection_dir: Path) -> set[tuple[str, str]]:
    conn = sqlite3.connect(str(collection_dir / "rag.sqlite"))
    try:
        return set(conn.execute("SELECT chunk_id, emb_key FROM chunks"))
    finally:
        conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=1000, help="first N SciFact abstracts (0 = the whole corpus)")
    ap.add_argument("--workers", type=int, default=None, help="Ray actors per stage (default: Ray's CPU count)")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    from rag.pipeline.indexer import index_paths  # noqa: PLC0415
    from rag.settings import Settings  # noqa: PLC0415

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "scifact.jsonl"
        corpus.write_text("".join(json.dumps(r) + "\n" for r in read_jsonl(SCIFACT / "corpus.jsonl", a.docs or None)))
        found = {}
        for engine in ("local", "ray"):
            settings = Settings(index_dir=Path(tmp) / engine, collection="bench", sentence_vectors=False,
                                ray_workers=a.workers)
            load = os.getloadavg()[0]
            t = time.perf_counter()
            ray_start = 0.0
            if engine == "ray":
                from rag.pipeline.ray_engine import init_local_ray  # noqa: PLC0415

                init_local_ray()
                ray_start = time.perf_counter() - t
            report = index_paths([corpus], settings, engine=engine)
            total = time.perf_counter() - t
            found[engine] = _chunks(settings.collection_dir)
            rows.append({"engine": engine, "docs": report.documents_added, "chunks": report.chunks_added,
                         "total_s": round(total, 1), "ray_start_s": round(ray_start, 1),
                         "chunk_s": round(report.seconds.get("chunk", 0), 1),
                         "embed_s": round(report.seconds.get("embed", 0), 1),
                         "docs_per_s": round(report.documents_added / total, 2),
                         "chunks_per_s": round(report.chunks_added / total, 1), "load_at_start": round(load, 1)})
            print(table(rows[-1:], list(rows[-1])), flush=True)
    same = found["local"] == found["ray"]
    rows[0]["time_vs_local"], rows[1]["time_vs_local"] = 1.0, round(rows[1]["total_s"] / rows[0]["total_s"], 2)
    print("\n" + table(rows, list(rows[0])) + f"\n\nsame chunk ids and embedding keys: {same}")
    path = write_result("ray_ingest", {"args": vars(a) | {"out": str(a.out)}, "rows": rows, "same_chunks": same}, a.out)
    print(f"written: {path}")


if __name__ == "__main__":
    main()
