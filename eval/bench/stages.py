"""Where does a request's time go? py-spy samples a loaded `rag serve`; stacks are grouped by stage.

    pip install -e '.[profile]'   # py-spy (a sampling profiler: no code change, no debug route)
    python -m eval.bench.stages --ask-clients 8 --search-clients 4 --duration 60

Starts `rag serve` over a copy of data/sample (as eval/bench/soak.py does), keeps it busy with
clients asking (/v1/ask) and searching (/v1/search), and lets py-spy record the server for
`--duration` seconds. Each sampled stack is put under the route it serves (ask / search / other)
and a stage: the first frame of our own code from the leaf up names the module, the module names
the stage (STAGES). py-spy leaves most idle threads out; a request blocked on a query slot can
still be sampled and is shown as its own "waiting" stage, not as work. Writes OUT.json (shares per route and stage, the 15 hottest
functions of ours per route) and OUT.raw (py-spy's collapsed stacks, for a flame graph).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx

from eval.bench.soak import REPO, _free_port, questions, start_server, wait_ready

# (substring of a frame's file, stage): the first frame of ours from the leaf up picks the stage.
STAGES: list[tuple[str, str]] = [
    ("rag/embed/", "encode (tokenise + ONNX Runtime)"),
    ("rag/store/vectors", "dense search (FAISS)"),
    ("rag/store/bm25", "keyword search (BM25)"),
    ("rag/store/", "store reads (SQLite, snapshot)"),
    ("rag/retrieve/", "fusion, dates, aggregation"),
    ("rag/answer/features", "evidence features"),
    ("rag/answer/answer_type", "evidence features"),
    ("rag/answer/evidence_model", "evidence model (trees in numpy)"),
    ("rag/answer/citations", "citation verification"),
    ("rag/cite/", "citation verification"),
    ("rag/chunk/", "sentence splitting"),
    ("rag/answer/", "answer flow (compose, refuse, number)"),
    ("rag/service/", "service (refusal log, checks)"),
    ("api/", "API (paths redacted, deep copy)"),
    ("rag/", "other rag code"),
]
ROUTES = {"ask (api/routes_query.py": "ask", "search (api/routes_query.py": "search",
          "api/routes_documents.py": "documents"}
OUR_CODE = ("rag/", "api/")
# A thread blocked on the query-slot semaphore is not always seen as idle by py-spy: named apart.
WAITING = ("RagService._query_slot (", "_query_slot (")


def frame_file(frame: str) -> str:
    """'function (path/to/file.py:12)' -> 'path/to/file.py'."""
    inside = frame[frame.rfind("(") + 1:].rstrip(")")
    return inside.rsplit(":", 1)[0]


def classify(frames: list[str]) -> tuple[str, str, str]:
    """(route, stage, hottest function of ours) for one stack, root first."""
    route = next((name for frame in frames for marker, name in ROUTES.items() if marker in frame), "other")
    for frame in reversed(frames):
        if frame.startswith(WAITING):
            return route, "waiting for a query slot (blocked, not computing)", frame
        path = frame_file(frame)
        if path.startswith(OUR_CODE) or "/rag/" in path or "/api/" in path:
            for marker, stage in STAGES:
                if marker in path:
                    return route, stage, frame
        if "onnxruntime" in path:
            return route, "encode (tokenise + ONNX Runtime)", frame
    framework = ("fastapi", "starlette", "pydantic", "anyio", "uvicorn", "json")
    leaf = frames[-1] if frames else ""
    return route, "framework (HTTP, validation, JSON)" if any(f in leaf for f in framework) else "other", leaf


def summarise(raw: Path) -> dict:
    per_route: dict[str, Counter] = defaultdict(Counter)
    hot: dict[str, Counter] = defaultdict(Counter)
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        route, stage, frame = classify(stack.split(";"))
        per_route[route][stage] += int(count)
        hot[route][frame] += int(count)
    out: dict = {}
    for route, stages in sorted(per_route.items()):
        total = sum(stages.values())
        out[route] = {"samples": total,
                      "stages_pct": {s: round(100 * n / total, 1) for s, n in stages.most_common()},
                      "hottest_pct": {f: round(100 * n / total, 1) for f, n in hot[route].most_common(15)}}
    return out


_DONE_LOCK = threading.Lock()


def _loop(url: str, path: str, param: str, qs: list[str], offset: int, stop: threading.Event, done: Counter) -> None:
    with httpx.Client(timeout=120) as client:
        i = offset
        while not stop.is_set():
            q = qs[i % len(qs)]
            try:
                reply = client.post(f"{url}{path}", json={param: q}) if path == "/v1/ask" else \
                    client.get(f"{url}{path}", params={param: q})
                status = reply.status_code
            except httpx.HTTPError:
                status = 0
            with _DONE_LOCK:
                done[(path, status)] += 1
            i += 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ask-clients", type=int, default=8)
    ap.add_argument("--search-clients", type=int, default=4)
    ap.add_argument("--duration", type=int, default=60, help="seconds py-spy records (after 15 s of load)")
    ap.add_argument("--rate", type=int, default=50, help="samples per second")
    ap.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--out", type=Path, default=REPO / "eval" / "results" / "stages")
    args = ap.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        sys.exit("py-spy is not installed: pip install -e '.[profile]'")
    workdir = Path(tempfile.mkdtemp(prefix="rag-stages-"))
    port = _free_port()
    server = start_server(workdir, port, dict(kv.split("=", 1) for kv in args.server_env), [])
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url)
        qs, stop, done = questions(), threading.Event(), Counter()
        threads = [threading.Thread(target=_loop, args=(url, "/v1/ask", "question", qs, i, stop, done), daemon=True)
                   for i in range(args.ask_clients)]
        threads += [threading.Thread(target=_loop, args=(url, "/v1/search", "q", qs, 7 * i, stop, done), daemon=True)
                    for i in range(args.search_clients)]
        for t in threads:
            t.start()
        time.sleep(15)  # past the first requests' one-off costs
        raw = args.out.with_suffix(".raw")
        raw.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        subprocess.run([py_spy, "record", "--pid", str(server.pid), "--duration", str(args.duration), "--rate",
                        str(args.rate), "--format", "raw", "--nonblocking", "-o", str(raw)],
                       check=True, capture_output=True)
        took = time.monotonic() - started
        stop.set()
        for t in threads:
            t.join(timeout=150)
        summary = {"ask_clients": args.ask_clients, "search_clients": args.search_clients, "seconds": round(took, 1),
                   "replies": {f"{p} {s}": n for (p, s), n in sorted(done.items())}, "cpus": os.cpu_count(),
                   "load_avg": os.getloadavg(), "routes": summarise(raw)}
        args.out.with_suffix(".json").write_text(json.dumps(summary, indent=1))
        print(json.dumps(summary, indent=1))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
