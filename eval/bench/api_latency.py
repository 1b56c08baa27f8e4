"""Latency of the HTTP API: p50/p95 of POST /v1/ask and time to first streamed event, or of GET /v1/search.

    python -m eval.bench.api_latency --url http://127.0.0.1:8000 [--n 100] [--api-key KEY]
    python -m eval.bench.api_latency --collection sample     # starts its own server in-process
    python -m eval.bench.api_latency --collection zh --search --seeds eval/data/zh_news_questions.jsonl

Start the server with RAG_RATE_LIMIT_PER_MINUTE=0 (200 requests in a minute exceed the default limit).
Questions cycle through the seeds file; requests are sequential (one user), so the figures are
per-request latency, not throughput. Prints a JSON report (and writes it with --out).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import httpx

from eval.bench.common import SHARED

# ../shared beside the repository (the layout CI uses); pass --seeds for another place.
DEFAULT_SEEDS = SHARED / "eval" / "seeds_dev.jsonl"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50_ms": round(percentile(values, 50), 1), "p95_ms": round(percentile(values, 95), 1),
            "mean_ms": round(statistics.fmean(values), 1), "max_ms": round(max(values), 1)}


def time_ask(client: httpx.Client, question: str) -> float:
    t0 = time.perf_counter()
    r = client.post("/v1/ask", json={"question": question})
    r.raise_for_status()
    return (time.perf_counter() - t0) * 1000


def time_stream(client: httpx.Client, question: str) -> tuple[float, float]:
    """(ms to the first SSE event, ms to the final answer event)."""
    t0 = time.perf_counter()
    first: float | None = None
    with client.stream("POST", "/v1/ask", json={"question": question, "stream": True}) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if line.startswith("event:") and first is None:
                first = (time.perf_counter() - t0) * 1000
            if line.startswith("event:") and line.split(":", 1)[1].strip() == "error":
                raise RuntimeError("the server streamed an error event")
    total = (time.perf_counter() - t0) * 1000
    return (first if first is not None else total), total


def time_search(client: httpx.Client, question: str) -> float:
    t0 = time.perf_counter()
    r = client.get("/v1/search", params={"q": question, "k": 5})
    r.raise_for_status()
    return (time.perf_counter() - t0) * 1000


def run_search(url: str, questions: list[str], n: int, api_key: str | None) -> dict[str, Any]:
    """GET /v1/search (top 5, no reader): the keyword + vector path alone, one client."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    with httpx.Client(base_url=url, headers=headers, timeout=300) as client:
        time_search(client, questions[0])  # warm-up
        times = [time_search(client, questions[i % len(questions)]) for i in range(n)]
        ready = client.get("/readyz").json()
    return {"url": url, "questions": len(questions), "requests": n, "search": summary(times),
            "index": {k: ready.get(k) for k in ("collection", "documents", "chunks", "embedding_model")},
            "cpu_count": os.cpu_count()}


def run(url: str, questions: list[str], n: int, api_key: str | None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    with httpx.Client(base_url=url, headers=headers, timeout=300) as client:
        time_ask(client, questions[0])  # warm-up: first-request costs are not steady-state latency
        ask = [time_ask(client, questions[i % len(questions)]) for i in range(n)]
        firsts, totals = zip(*(time_stream(client, questions[i % len(questions)]) for i in range(n)))
        ready = client.get("/readyz").json()
    return {"url": url, "questions": len(questions), "requests_each": n, "ask": summary(ask),
            "stream_first_event": summary(list(firsts)), "stream_total": summary(list(totals)),
            "index": {k: ready.get(k) for k in ("collection", "documents", "chunks", "embedding_model")},
            "cpu_count": os.cpu_count()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="Base URL of a running server; omit to start one in-process")
    ap.add_argument("--collection", default=None, help="Collection for the in-process server (RAG_COLLECTION)")
    ap.add_argument("--seeds", type=Path, default=DEFAULT_SEEDS)
    ap.add_argument("--n", type=int, default=100, help="Requests per measurement")
    ap.add_argument("--api-key", default=os.environ.get("RAG_BENCH_API_KEY"))
    ap.add_argument("--out", type=Path, help="Also write the JSON report here")
    ap.add_argument("--search", action="store_true", help="Time GET /v1/search instead of POST /v1/ask")
    args = ap.parse_args()
    questions = [json.loads(line)["question"] for line in args.seeds.read_text().splitlines() if line.strip()]
    if args.url:
        ctx: Any = nullcontext(args.url)
    else:
        from api.app import create_app  # noqa: PLC0415
        from api.testing import live_server  # noqa: PLC0415
        from rag.settings import Settings  # noqa: PLC0415

        settings = Settings(**({"collection": args.collection} if args.collection else {}), rate_limit_per_minute=0)
        ctx = live_server(create_app(settings))
    with ctx as url:
        report = (run_search if args.search else run)(url, questions, args.n, args.api_key)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
