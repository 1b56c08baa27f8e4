"""The SciFact half of eval/bench/speed.py: the reference index, ingest runs, in-process search, the bare loop.

The reference is an fp32 index of all of SciFact, built once before a timed window:

    python -m eval.bench.speed --prebuild [--index-dir index]     # ~6 min quiet, ~30+ min on a busy machine

which runs `rag eval --dataset beir` on the report split with torch fp32 (RAG_EMBED_PRECISION=fp32), so
its collection `eval-beir-scifact` holds the vectors every other configuration's nDCG@10 is compared
with. Ingest runs index the whole corpus again into a fresh folder (the ONNX exports are reused, not
re-made inside the timed part) with one encoder configuration each, retrieval-only (no sentence vectors,
as `rag eval` does for BEIR), and score the same queries. --prebuild also builds the default
configuration's collection (under <index-dir>/default): what the in-process search row times.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench.common import REPO, SCIFACT, p50_p95

COLLECTION = "eval-beir-scifact"  # what `rag eval` names the whole corpus's collection (eval/runner.py)
REPORT_SPLIT = REPO / "eval" / "data" / "scifact_report.txt"
PREBUILD_FILE = "speed-prebuild.json"  # written beside the collection by --prebuild
DEFAULT_DIR = "default"  # --prebuild also builds the default configuration's collection here: the search row's
# Ingest configurations: environment of the `rag eval` process (all retrieval-only, all text embedded).
INGEST_CONFIGS: dict[str, dict[str, str]] = {
    "fp32-torch": {"RAG_EMBED_BACKEND": "torch", "RAG_EMBED_PRECISION": "fp32", "RAG_EMBED_QUANTIZATION": "none"},
    "default": {},  # RAG_EMBED_QUANTIZATION=auto: int8-all ONNX for a new collection
    "fp-torch": {"RAG_EMBED_BACKEND": "torch", "RAG_EMBED_QUANTIZATION": "none"},  # bf16 autocast where native
    "int8-onnx": {"RAG_EMBED_BACKEND": "onnx", "RAG_EMBED_QUANTIZATION": "int8"},
    "int8-all-onnx": {"RAG_EMBED_BACKEND": "onnx", "RAG_EMBED_QUANTIZATION": "int8-all"},
}


def collection(limit: int | None) -> str:
    return COLLECTION + (f"-c{limit}" if limit else "")


def rag_eval(index_dir: Path, config: str, out: Path, encoder_dir: Path, limit: int | None) -> dict[str, Any]:
    """`rag eval` (BEIR SciFact, report split, retrieval-only) in a fresh process: wall s, index s, nDCG@10."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAG_ENCODER_DIR": str(encoder_dir)}
    for key in ("RAG_EMBED_BACKEND", "RAG_EMBED_PRECISION", "RAG_EMBED_QUANTIZATION", "RAG_SENTENCE_VECTORS"):
        env.pop(key, None)
    env.update(INGEST_CONFIGS[config])
    cmd = [sys.executable, "-m", "rag", "eval", "--dataset", "beir", "--path", str(SCIFACT), "--split",
           str(REPORT_SPLIT), "--retrieval-only", "--index-dir", str(index_dir), "--output", str(out),
           "--config", config, "--no-progress"] + (["--corpus-limit", str(limit)] if limit else [])
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"rag eval ({config}) failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    metrics = json.loads(next(out.rglob("metrics.json")).read_text())["metrics"]
    seconds = metrics.get("index", {}).get("seconds", {})
    ndcg = metrics.get("ndcg@10") or metrics.get("retrieval", {}).get("ndcg@10")
    return {"config": config, "wall_s": round(wall, 1), "index_s": round(seconds.get("total", float("nan")), 1),
            "embed_s": round(seconds.get("embed", float("nan")), 1), "ndcg@10": ndcg,
            "parts_s": {k: round(v, 1) for k, v in seconds.items() if k != "total"},
            "chunks": metrics.get("index", {}).get("chunks_added"), "load_after": round(os.getloadavg()[0], 2)}


def prebuild(index_dir: Path, limit: int | None = None, config: str = "fp32-torch") -> dict[str, Any]:
    """Build (or find) the reference collection and remember its nDCG@10 and build time.

    `config` fp32-torch is the reference the issue names; `default` (bf16 autocast where native,
    ~2.7x faster to build, nDCG@10 0.7139 vs 0.7138 in the quiet run) when there is no time for it:
    the table then says which one every ingest row was compared with."""
    from rag.embed.onnx_export import export_onnx
    from rag.settings import DEFAULT_MODEL

    for precision in ("fp32", "int8", "int8-all"):  # made once here, never inside a timed ingest
        export_onnx(DEFAULT_MODEL, index_dir / ".encoders", precision)
    with tempfile.TemporaryDirectory(prefix="speed-prebuild-") as tmp:
        row = rag_eval(index_dir, config, Path(tmp), index_dir / ".encoders", limit)
    row["load_at_end"] = os.getloadavg()
    row["built_by"] = built_by(index_dir / collection(limit))
    (index_dir / collection(limit) / PREBUILD_FILE).write_text(json.dumps(row, indent=2))
    with tempfile.TemporaryDirectory(prefix="speed-prebuild-") as tmp:  # what a user's `rag index` makes today
        row["default"] = rag_eval(index_dir / DEFAULT_DIR, "default", Path(tmp), index_dir / ".encoders", limit)
    row["default"]["built_by"] = built_by(index_dir / DEFAULT_DIR / collection(limit))
    return row


def built_by(folder: Path) -> str:
    """The encoder an existing collection was built with (an index already there is reused, not rebuilt)."""
    from rag.store.collection import Collection

    with Collection(folder).open_snapshot() as snap:
        m = snap.manifest
        return f"{m.encoder_backend} {m.precision}"


def reference(index_dir: Path, limit: int | None = None) -> dict[str, Any]:
    path = index_dir / collection(limit) / PREBUILD_FILE
    if not path.is_file():
        flag = f" --scifact-limit {limit}" if limit else ""
        raise SystemExit(f"No reference SciFact index at {path.parent}: build it first with "
                         f"`python -m eval.bench.speed --prebuild{flag} --index-dir {index_dir}` (or leave out --scifact).")
    return json.loads(path.read_text())


def ingest(index_dir: Path, config: str, limit: int | None = None) -> dict[str, Any]:
    """The whole SciFact ingest with one configuration, in a fresh folder; nDCG@10 vs the reference."""
    with tempfile.TemporaryDirectory(prefix=f"speed-ingest-{config}-", dir=index_dir) as tmp:
        work = Path(tmp)
        row = rag_eval(work / "index", config, work / "results", index_dir / ".encoders", limit)
    ref = reference(index_dir, limit)["ndcg@10"]
    row["ndcg_vs_fp32"] = round(row["ndcg@10"] - ref, 4) if isinstance(row["ndcg@10"], float) else None
    return row


def in_process_search(index_dir: Path, questions: list[str], rounds: int, limit: int | None = None) -> dict[str, Any]:
    """The product's hybrid search over the default configuration's collection (--prebuild made it),
    one query at a time, with the server's encoder for it."""
    from rag.embed.factory import make_encoder
    from rag.retrieve.hybrid import HybridRetriever
    from rag.settings import Settings
    from rag.store.collection import Collection

    settings = Settings(index_dir=index_dir / DEFAULT_DIR, collection=collection(limit), encoder_dir=index_dir / ".encoders")
    if not settings.collection_dir.is_dir():
        raise SystemExit(f"No default-configuration SciFact collection at {settings.collection_dir}: run --prebuild again.")
    with Collection(settings.collection_dir).open_snapshot() as snap:
        enc = make_encoder(settings, "server", snap.manifest)
        if hasattr(enc, "wait"):
            enc.wait(300)
        retriever = HybridRetriever(snap, enc, settings)
        for q in questions[:5]:
            retriever.search(q, 10)
        times, parts = [], {}
        for _ in range(rounds):
            for q in questions:
                t = time.perf_counter()
                result = retriever.search(q, 10)
                times.append((time.perf_counter() - t) * 1000)
                for name, ms in result.timings_ms.items():
                    parts.setdefault(name, []).append(ms)
        parts_p50 = {k: round(float(np.median(v)), 2) for k, v in parts.items()}
        return {**p50_p95(times), "parts_p50_ms": parts_p50, "encoder": getattr(enc, "report", enc.identity.describe())}
