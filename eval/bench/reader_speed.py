"""How long a question takes with the reader, beside the extractive path, in one run (issue 28's speed rows).

    HF_HUB_OFFLINE=1 .venv/bin/python -m eval.bench.reader_speed [--split test] [--cli 5] [--out FILE]

1. `rag serve --local-llm` (the packaged reader, this machine's default settings) starts on 127.0.0.1 over a
   fresh index of data/sample; each question of the split is asked once in `auto` (read with the reader)
   and once in `extractive` over HTTP (/v1/ask, one client, warm server). Reported: p50 / p95 per mode,
   the share of questions that reached the reader, and the median answer words.
2. Whole `rag ask` processes (model load included): `--cli N` questions with `--local-llm` and N without.
Run it on a quiet machine: the reader's prompt is CPU-bound, and a busy second core doubles it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from eval.adapters.sample_questions import QUESTIONS, read_questions
from rag.net import free_port

REPO = Path(__file__).resolve().parents[2]
RAG = [sys.executable, "-m", "rag"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def wait_ready(url: str, proc: subprocess.Popen, timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"rag serve exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise TimeoutError("rag serve did not become ready")


def http_rows(url: str, questions: list[str]) -> list[dict[str, Any]]:
    rows = []
    with httpx.Client(base_url=url, timeout=120) as client:
        client.post("/v1/ask", json={"question": questions[0], "mode": "extractive"})  # warm
        for q in questions:
            for mode in ("auto", "extractive"):
                t0 = time.perf_counter()
                body = client.post("/v1/ask", json={"question": q, "mode": mode}).json()
                ms = (time.perf_counter() - t0) * 1000
                rows.append({"question": q, "mode": mode, "ms": ms, "answered_by": body.get("mode"),
                             "route": (body.get("diagnostics") or {}).get("route"), "refused": body.get("refused"),
                             "words": len(body.get("answer", "").split())})
    return rows


def cli_seconds(env: dict[str, str], questions: list[str], local: bool) -> list[float]:
    out = []
    for q in questions:
        t0 = time.perf_counter()
        subprocess.run([*RAG, "ask", q, "-c", "sample", *(["--local-llm"] if local else [])], env=env, check=True,
                       capture_output=True, cwd=REPO)
        out.append(time.perf_counter() - t0)
    return out


def summarise(rows: list[dict[str, Any]], mode: str) -> dict[str, float]:
    mine = [r for r in rows if r["mode"] == mode]
    ms = [r["ms"] for r in mine]
    words = [r["words"] for r in mine if not r["refused"]]
    return {"questions": len(mine), "p50_ms": round(percentile(ms, 0.5), 1), "p95_ms": round(percentile(ms, 0.95), 1),
            "reader_share": round(sum(r["route"] in ("reader", "check") for r in mine) / len(mine), 3),
            "median_answer_words": statistics.median(words) if words else 0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", default="test")
    ap.add_argument("--cli", type=int, default=5, help="whole `rag ask` processes per variant")
    ap.add_argument("--out", type=Path, default=REPO / "eval" / "results" / "bench" / "reader_speed.json")
    args = ap.parse_args()
    questions = [r["question"] for r in read_questions(QUESTIONS) if r["split"] == args.split]
    work = Path(tempfile.mkdtemp(prefix="rag-reader-speed-"))
    env = {**os.environ, "RAG_INDEX_DIR": str(work / "index"), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    subprocess.run([*RAG, "index", str(REPO / "data" / "sample"), "-c", "sample", "--no-progress"], env=env, check=True,
                   capture_output=True, cwd=REPO)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([*RAG, "serve", "-c", "sample", "--local-llm", "--port", str(port)], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(url, proc)
        rows = http_rows(url, questions)
    finally:
        proc.terminate()
        proc.wait(30)
    result = {"split": args.split, "load_avg_start": os.getloadavg(),
              "http": {m: summarise(rows, m) for m in ("auto", "extractive")},
              "cli_s": {"local_llm": cli_seconds(env, questions[: args.cli], True),
                        "extractive": cli_seconds(env, questions[: args.cli], False)},
              "rows": rows}
    result["cli_median_s"] = {k: round(statistics.median(v), 2) for k, v in result["cli_s"].items()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("http", "cli_median_s")}, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
