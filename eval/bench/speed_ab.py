"""Before/after on a busy machine: the same measurements of two source trees, interleaved round by round.

    git archive 6ff930a | tar -x -C /tmp/old        # the tree to compare with
    nice python -m eval.bench.speed_ab --old-tree /tmp/old --index-dir index [--rounds 3]

Absolute times on a shared machine mean little; two trees measured alternately in one run share the
load, so their ratio does. Both trees query the same index (--index-dir/<--collection>, built by
`rag index`) and the same ONNX exports. Per round and tree: one whole `rag ask` process, one
`rag serve` start to the first /readyz 200, then (after the server's encoder measurement) the seeds
questions x 3 through /v1/search. Prints medians, p95 and the load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

from eval.bench.common import REPO, read_jsonl
from eval.bench.speed import SEEDS, free_port, get, pct


def ask_s(tree: Path, env: dict[str, str], question: str) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rag", "ask", question], cwd=tree, env=env, capture_output=True, check=True)
    return time.perf_counter() - t


def serve(tree: Path, env: dict[str, str], questions: list[str]) -> tuple[float, list[float]]:
    port = free_port()
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "rag", "serve", "--port", str(port), "--log-level", "warning"],
                            cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        while get(base + "/readyz")[0] != 200:
            if proc.poll() is not None:
                raise SystemExit(f"rag serve from {tree} exited")
            time.sleep(0.01)
        ready = time.perf_counter() - t
        while ((get(base + "/readyz")[1] or {}).get("encoder") or {}).get("measured") is False:
            time.sleep(0.5)
        for q in questions[:3]:
            get(f"{base}/v1/search?" + urllib.parse.urlencode({"q": q, "k": 10}))
        ms = []
        for _ in range(3):
            for q in questions:
                t0 = time.perf_counter()
                assert get(f"{base}/v1/search?" + urllib.parse.urlencode({"q": q, "k": 10}))[0] == 200
                ms.append((time.perf_counter() - t0) * 1000)
        return ready, ms
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old-tree", type=Path, required=True)
    ap.add_argument("--index-dir", type=Path, default=REPO / "index")
    ap.add_argument("--collection", default="sample")
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    index_dir = a.index_dir.resolve()
    trees = {"old": a.old_tree.resolve(), "new": REPO}
    base_env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAG_INDEX_DIR": str(index_dir), "RAG_COLLECTION": a.collection,
                "RAG_ENCODER_DIR": str(index_dir / ".encoders"), "RAG_RATE_LIMIT_PER_MINUTE": "0"}
    questions = [r["question"] for r in read_jsonl(SEEDS)]
    load0 = os.getloadavg()
    asks: dict[str, list[float]] = {k: [] for k in trees}
    ready: dict[str, list[float]] = {k: [] for k in trees}
    search: dict[str, list[float]] = {k: [] for k in trees}
    for _ in range(a.rounds):
        for name, tree in trees.items():
            env = {**base_env, "PYTHONPATH": str(tree)}
            asks[name].append(ask_s(tree, env, "Who met with Ge Lihe?"))
            r, ms = serve(tree, env, questions)
            ready[name].append(r)
            search[name] += ms
            print(f"{name}: ask {asks[name][-1]:.2f} s, ready {r:.2f} s (load {os.getloadavg()[0]:.1f})", flush=True)
    for name in trees:
        print(f"{name}: rag ask median {statistics.median(asks[name]):.2f} s; serve->ready median "
              f"{statistics.median(ready[name]):.2f} s; /v1/search n={len(search[name])} "
              f"p50 {statistics.median(search[name]):.2f} ms p95 {pct(search[name], 0.95):.2f} ms")
    print(f"load at start {load0[0]:.2f}, at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
