"""Query latency on the SciFact index: search and ask p50/p95 (warm), and cold start of `rag ask` / `rag search`.

    HF_HUB_OFFLINE=1 .venv/bin/rag index ../shared/eval/scifact/corpus.jsonl --collection scifact   # once
    HF_HUB_OFFLINE=1 .venv/bin/python -m eval.bench.query --collection scifact
    HF_HUB_OFFLINE=1 .venv/bin/python -m eval.bench.query --limit 300 --queries 30 --cold 1   # smoke test

Warm figures: one process, model loaded, one query at a time over SciFact's queries.jsonl (after
three warm-up queries). Cold start: a fresh `python -m rag ask QUESTION` process, timed from spawn
to exit (it prints the answer last, so exit is when the user has it); median over --cold runs.
With --limit N, the first N SciFact documents are indexed into collection bench-scifact-<N>.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from eval.bench.common import REPO, SCIFACT, lat, median, read_jsonl, table, write_result

WARMUP = 3


def ensure_index(settings: Any, data: Path, limit: int | None) -> None:
    """Index SciFact (or its first `limit` documents) when the collection is not there yet."""
    from rag.pipeline.indexer import index_paths  # noqa: PLC0415
    from rag.store.collection import Collection  # noqa: PLC0415

    if Collection(settings.collection_dir).exists():
        return
    src = data / "corpus.jsonl"
    if not src.is_file():
        raise SystemExit(f"error: {src} not found; pass --data with SciFact's BEIR folder")
    if limit:
        sliced = settings.index_dir / f"{settings.collection}.corpus.jsonl"
        sliced.parent.mkdir(parents=True, exist_ok=True)
        sliced.write_text("".join(src.read_text(encoding="utf-8").splitlines(keepends=True)[:limit]))
        src = sliced
    print(f"indexing {src} into {settings.collection_dir} (once)", flush=True)
    index_paths([src], settings, progress=sys.stderr.isatty())


def stage_summary(timings: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    keys = sorted({k for t in timings for k in t})
    return {k: lat([t[k] for t in timings if k in t]) for k in keys}


def warm_search(settings: Any, queries: list[str]) -> dict[str, Any]:
    from rag.embed.factory import make_encoder  # noqa: PLC0415
    from rag.retrieve.hybrid import HybridRetriever  # noqa: PLC0415
    from rag.store.collection import Collection  # noqa: PLC0415

    snap = Collection(settings.collection_dir).open_snapshot()
    try:
        retriever = HybridRetriever(snap, make_encoder(settings, "server", snap.manifest), settings)
        for q in queries[:WARMUP]:
            retriever.search(q)
        total, stages = [], []
        for q in queries:
            t = time.perf_counter()
            res = retriever.search(q)
            total.append((time.perf_counter() - t) * 1000)
            stages.append(res.timings_ms)
        return {"chunks": snap.size, "total": lat(total), "stages": stage_summary(stages)}
    finally:
        snap.close()


def warm_ask(settings: Any, queries: list[str]) -> dict[str, Any]:
    from rag.service.assistant import Assistant  # noqa: PLC0415

    assistant = Assistant(settings)
    try:
        for q in queries[:WARMUP]:
            assistant.ask(q)
        total, stages, refused, modes = [], [], 0, set()
        for q in queries:
            t = time.perf_counter()
            ans = assistant.ask(q)
            total.append((time.perf_counter() - t) * 1000)
            t_ms = dict(ans.timings_ms)
            if "answer" not in t_ms and {"total", "retrieve"} <= t_ms.keys():
                t_ms["answer"] = t_ms["total"] - t_ms["retrieve"]  # answering + citing, after retrieval
            stages.append(t_ms)
            refused += ans.refused
            modes.add(ans.mode)
        return {"total": lat(total), "stages": stage_summary(stages), "refused": refused, "modes": sorted(modes)}
    finally:
        assistant.close()


def cold_start(command: str, settings: Any, question: str, runs: int) -> dict[str, Any]:
    """Seconds from spawning `python -m rag <command> QUESTION` to its exit, median of `runs`."""
    argv = [sys.executable, "-m", "rag", command, question, "--collection", settings.collection,
            "--index-dir", str(settings.index_dir)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
        times.append(time.perf_counter() - t)
        if proc.returncode != 0:
            return {"error": f"exit {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-300:]}"}
    return {"median_s": round(median(times), 2), "all_s": [round(x, 2) for x in times]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--collection", default=None, help="collection holding SciFact (default scifact)")
    ap.add_argument("--index-dir", type=Path, default=None, help="RAG_INDEX_DIR (default index)")
    ap.add_argument("--data", type=Path, default=SCIFACT, help="SciFact BEIR folder (queries.jsonl, corpus.jsonl)")
    ap.add_argument("--limit", type=int, default=None, help="index only the first N documents (smoke test)")
    ap.add_argument("--queries", type=int, default=300, help="how many of queries.jsonl to time")
    ap.add_argument("--cold", type=int, default=3, help="cold-start runs (0 to skip)")
    ap.add_argument("--skip-ask", action="store_true", help="time search only")
    ap.add_argument("--out", type=Path, default=None, help="JSON result file")
    a = ap.parse_args()
    from rag.settings import Settings  # noqa: PLC0415

    collection = a.collection or (f"bench-scifact-{a.limit}" if a.limit else "scifact")
    settings = Settings(collection=collection, **({"index_dir": a.index_dir} if a.index_dir else {}))
    ensure_index(settings, a.data, a.limit)
    queries = [r["text"] for r in read_jsonl(a.data / "queries.jsonl", a.queries)]
    result: dict[str, Any] = {"collection": str(settings.collection_dir), "queries": len(queries),
                              "k": settings.k, "search": warm_search(settings, queries)}
    rows = [{"what": "search (warm)", **{k: result["search"]["total"][k] for k in ("p50_ms", "p95_ms")}}]
    if not a.skip_ask:
        result["ask"] = warm_ask(settings, queries)
        rows.append({"what": f"ask (warm, {'/'.join(result['ask']['modes'])})",
                     **{k: result["ask"]["total"][k] for k in ("p50_ms", "p95_ms")}})
    if a.cold:
        for command in ("search",) + (() if a.skip_ask else ("ask",)):
            result[f"cold_{command}"] = cold_start(command, settings, queries[0], a.cold)
            c = result[f"cold_{command}"]
            rows.append({"what": f"rag {command} cold start (process spawn to exit)",
                         "p50_ms": c["median_s"] * 1000 if "median_s" in c else c.get("error")})
    print(f"{result['search']['chunks']} chunks, {len(queries)} queries, k={settings.k}\n")
    print(table(rows, ["what", "p50_ms", "p95_ms"]))
    for what in ("search", "ask"):
        if what in result:
            print(f"\n{what} stages (ms):")
            print(table([{"stage": k, **v} for k, v in result[what]["stages"].items()], ["stage", "p50_ms", "p95_ms"]))
    path = write_result("query", {"args": {k: str(v) for k, v in vars(a).items()}, **result}, a.out)
    print(f"\nwritten: {path}")


if __name__ == "__main__":
    main()
