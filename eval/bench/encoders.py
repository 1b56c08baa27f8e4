"""Per-question encode latency of every encoder configuration, interleaved (noise hits all alike).

    python -m eval.bench.encoders [--rounds 30] [--encoder-dir DIR] [--json OUT]

Answers "why does ONNX lose per query" by varying one thing at a time: graph (as exported vs
ONNX Runtime's BERT fusions: Attention, SkipLayerNorm, BiasGelu), thread spinning, thread count,
int8; torch fp32 and bf16 autocast as the baseline. Prints medians and p95 in ms and the cosine
of each configuration's vectors to torch fp32 on the same questions. State the load (`uptime`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

from eval.bench.common import SHARED
from rag.embed.onnx_export import export_onnx
from rag.settings import DEFAULT_MODEL

SEEDS = SHARED / "eval" / "seeds_dev.jsonl"


def _onnx(path: Path, threads: int, spinning: bool):  # noqa: ANN202 - an OnnxEncoder
    from rag.embed.onnx_encoder import OnnxEncoder
    from rag.embed.paths import resolve_model_path

    precision = "int8" if "int8" in path.name else "fp32"
    return OnnxEncoder(DEFAULT_MODEL, path, resolve_model_path(DEFAULT_MODEL), precision=precision,
                       threads=threads, spinning=spinning)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--encoder-dir", type=Path, default=Path("index/.encoders"))
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    from rag.embed.torch_encoder import TorchEncoder

    raw = export_onnx(DEFAULT_MODEL, a.encoder_dir, "raw")
    fused = export_onnx(DEFAULT_MODEL, a.encoder_dir, "fp32")
    int8 = export_onnx(DEFAULT_MODEL, a.encoder_dir, "int8")
    cores = os.cpu_count() or 1
    configs = {
        "torch fp32": TorchEncoder(precision="fp32"),
        "torch auto (bf16 where native)": TorchEncoder(precision="auto"),
        f"onnx as traced, {cores} threads, spinning": _onnx(raw, cores, True),
        f"onnx as traced, {cores} threads, no spinning": _onnx(raw, cores, False),
        "onnx as traced, 1 thread": _onnx(raw, 1, False),
        f"onnx fused, {cores} threads, spinning": _onnx(fused, cores, True),
        f"onnx fused, {cores} threads, no spinning": _onnx(fused, cores, False),
        "onnx fused, 1 thread": _onnx(fused, 1, False),
        f"onnx int8, {cores} threads, no spinning": _onnx(int8, cores, False),
        "onnx int8, 1 thread": _onnx(int8, 1, False),
    }
    questions = [json.loads(line)["question"] for line in SEEDS.read_text().splitlines() if line.strip()]
    ref = configs["torch fp32"].encode(questions)
    times: dict[str, list[float]] = {k: [] for k in configs}
    for r in range(a.rounds + 3):
        for q in questions:
            for name, enc in configs.items():
                t = time.perf_counter()
                enc.encode_query(q)
                if r >= 3:
                    times[name].append((time.perf_counter() - t) * 1000)
    rows = []
    for name, enc in configs.items():
        cos = float(np.min(np.sum(enc.encode(questions) * ref, axis=1)))
        ts = sorted(times[name])
        rows.append({"config": name, "p50_ms": round(statistics.median(ts), 2),
                     "p95_ms": round(ts[int(0.95 * (len(ts) - 1))], 2), "min_cosine_to_torch_fp32": round(cos, 6)})
    print(f"load: {os.getloadavg()}  cores: {cores}  questions: {len(questions)} x {a.rounds} rounds")
    print(f"{'config':45} {'p50 ms':>8} {'p95 ms':>8} {'cos':>9}")
    for row in rows:
        print(f"{row['config']:45} {row['p50_ms']:8.2f} {row['p95_ms']:8.2f} {row['min_cosine_to_torch_fp32']:9.6f}")
    if a.json:
        a.json.write_text(json.dumps({"load": os.getloadavg(), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
