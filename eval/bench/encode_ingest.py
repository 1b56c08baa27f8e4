"""SciFact ingest time and retrieval quality per document encoder: torch (bf16 where native), ONNX fp32, ONNX int8.

    nice python -m eval.bench.encode_ingest [--configs torch,onnx,int8] [--split eval/data/scifact_tune.txt]

Each configuration runs `rag eval --dataset beir --retrieval-only` in a fresh process and a fresh
index folder (nothing cached), so the index time is the whole ingest: load, chunk, embed chunks
AND sentences, store. Queries are encoded by the collection's own encoder family (int8 queries
for the int8 index). Prints ingest seconds, chunk/sentence embedding seconds, nDCG@10 and the
difference to the torch index; writes eval/results/bench/<time>-encode_ingest.json. State the load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from eval.bench.common import REPO, SCIFACT, write_result

CONFIGS = {
    "torch": {"RAG_EMBED_BACKEND": "torch", "RAG_EMBED_QUANTIZATION": "none"},
    "onnx": {"RAG_EMBED_BACKEND": "onnx", "RAG_EMBED_QUANTIZATION": "none"},
    "int8": {"RAG_EMBED_BACKEND": "onnx", "RAG_EMBED_QUANTIZATION": "int8"},
}


def run(name: str, split: str, work: Path, encoder_dir: Path, limit: int | None) -> dict:
    env = {**os.environ, **CONFIGS[name], "RAG_ENCODER_DIR": str(encoder_dir), "HF_HUB_OFFLINE": "1"}
    out = work / f"results-{name}"
    cmd = [sys.executable, "-m", "rag", "eval", "--dataset", "beir", "--path", str(SCIFACT), "--split", split,
           "--retrieval-only", "--index-dir", str(work / f"index-{name}"), "--output", str(out),
           "--config", name, "--no-progress"]
    if limit:
        cmd += ["--corpus-limit", str(limit)]
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    metrics = json.loads(next(out.rglob("metrics.json")).read_text())
    m = metrics["metrics"]
    seconds = m.get("index", {}).get("seconds", {})
    ndcg = m.get("ndcg@10") or m.get("retrieval", {}).get("ndcg@10")
    return {"config": name, "wall_s": round(wall, 1), "index_s": round(seconds.get("total", float("nan")), 1),
            "embed_chunks_s": round(seconds.get("embed", float("nan")), 1),
            "embed_sentences_s": round(seconds.get("embed_sentences", float("nan")), 1),
            "ndcg@10": ndcg, "load_after": round(os.getloadavg()[0], 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", default="torch,onnx,int8")
    ap.add_argument("--split", default="eval/data/scifact_tune.txt")
    ap.add_argument("--limit", type=int, default=None, help="index only the first N documents (smoke test)")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="encode-ingest-") as tmp:
        work = Path(tmp)
        from rag.embed.onnx_export import export_onnx  # noqa: PLC0415 - exports are made once, not timed
        from rag.settings import DEFAULT_MODEL  # noqa: PLC0415

        for precision in ("fp32", "int8"):
            export_onnx(DEFAULT_MODEL, work / "encoders", precision)
        for name in a.configs.split(","):
            print(f"{name}: load {os.getloadavg()[0]:.1f} ...", flush=True)
            rows.append(run(name, a.split, work, work / "encoders", a.limit))
            print(json.dumps(rows[-1]), flush=True)
    base = next((r for r in rows if r["config"] == "torch"), None)
    for r in rows:
        if base and isinstance(r["ndcg@10"], float) and isinstance(base["ndcg@10"], float):
            r["ndcg_vs_torch"] = round(r["ndcg@10"] - base["ndcg@10"], 4)
    print(f"{'config':8} {'index s':>8} {'chunks s':>9} {'sent. s':>8} {'nDCG@10':>8} {'vs torch':>9}")
    for r in rows:
        print(f"{r['config']:8} {r['index_s']:8} {r['embed_chunks_s']:9} {r['embed_sentences_s']:8} "
              f"{r['ndcg@10']!s:>8} {r.get('ndcg_vs_torch', '')!s:>9}")
    print("wrote", write_result("encode_ingest", {"split": a.split, "rows": rows}, a.out))


if __name__ == "__main__":
    main()
