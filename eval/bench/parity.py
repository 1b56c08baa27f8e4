"""Does the ONNX query path change any answer? seeds_dev and SQuAD2 dev, ONNX fp32 vs torch.

    nice python -m eval.bench.parity [--datasets seeds,squad2] [--configs torch,torch-fp32,onnx]

One index per dataset (built once by the first configuration, torch, as `rag index` does); every
configuration then answers every question with its own query encoder through `rag eval` in a fresh
process (RAG_EMBED_BACKEND / RAG_EMBED_PRECISION), and the answers are diffed: text, refusal and
each citation's span. Differences are listed with both answers so each can be explained.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from eval.bench.common import REPO, SHARED, write_result

DATASETS = {"seeds": SHARED / "eval" / "seeds_dev.jsonl", "squad2": SHARED / "eval" / "squad2"}
CONFIGS = {
    "torch": {"RAG_EMBED_BACKEND": "torch"},  # what torch queries ran before: bf16 autocast where native
    "torch-fp32": {"RAG_EMBED_BACKEND": "torch", "RAG_EMBED_PRECISION": "fp32"},
    "onnx": {"RAG_EMBED_BACKEND": "onnx"},
}


def answers(dataset: str, config: str, work: Path, limit: int | None = None) -> dict[str, dict[str, Any]]:
    env = {**os.environ, **CONFIGS[config], "RAG_ENCODER_DIR": str(work / "encoders"), "HF_HUB_OFFLINE": "1"}
    out = work / f"out-{dataset}-{config}"
    cmd = [sys.executable, "-m", "rag", "eval", "--dataset", dataset, "--path", str(DATASETS[dataset]),
           "--index-dir", str(work / f"index-{dataset}"), "--output", str(out), "--config", config,
           "--mode", "extractive", "--no-progress"] + (["--limit", str(limit)] if limit else [])
    proc = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{dataset}/{config} failed:\n{proc.stderr[-3000:]}")
    rows = [json.loads(line) for line in next(out.rglob("questions.jsonl")).read_text().splitlines() if line]
    return {r["qid"]: r for r in rows}


def key(r: dict[str, Any]) -> tuple:
    return (r.get("answer"), r.get("refused"), tuple((c["doc_id"], c["start"], c["end"]) for c in r.get("citations", [])))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="seeds,squad2")
    ap.add_argument("--configs", default="torch,torch-fp32,onnx")
    ap.add_argument("--limit", type=int, default=None, help="only the first N questions of each dataset")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    configs = a.configs.split(",")
    result: dict[str, Any] = {"load_at_start": os.getloadavg(), "datasets": {}}
    with tempfile.TemporaryDirectory(prefix="parity-") as tmp:
        work = Path(tmp)
        for ds in a.datasets.split(","):
            runs = {c: answers(ds, c, work, a.limit) for c in configs}
            base = configs[0]
            row: dict[str, Any] = {"questions": len(runs[base])}
            for c in configs[1:]:
                diffs = [q for q in runs[base] if key(runs[base][q]) != key(runs[c].get(q, {}))]
                row[f"{c}_vs_{base}"] = {"identical": len(runs[base]) - len(diffs), "different": len(diffs),
                                         "examples": [{"qid": q, "question": runs[base][q]["question"],
                                                       base: runs[base][q].get("answer"),
                                                       c: runs[c].get(q, {}).get("answer")} for q in diffs[:10]]}
            if "onnx" in configs and "torch-fp32" in configs:
                diffs = [q for q in runs["onnx"] if key(runs["onnx"][q]) != key(runs["torch-fp32"].get(q, {}))]
                row["onnx_vs_torch-fp32"] = {"identical": len(runs["onnx"]) - len(diffs), "different": len(diffs),
                                             "examples": [{"qid": q, "torch-fp32": runs["torch-fp32"][q].get("answer"),
                                                           "onnx": runs["onnx"][q].get("answer")} for q in diffs[:10]]}
            result["datasets"][ds] = row
            print(ds, json.dumps({k: v if not isinstance(v, dict) else {x: y for x, y in v.items() if x != "examples"}
                                  for k, v in row.items()}), flush=True)
    result["load_at_end"] = os.getloadavg()
    print("wrote", write_result("parity", result, a.out))


if __name__ == "__main__":
    main()
