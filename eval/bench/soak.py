"""Soak benchmark: N clients asking questions on loopback plus a writer that adds and deletes the
same document, for a bounded time; errors, latency percentiles, requests/s, and the server's RSS
over time, on a plot.

    python -m eval.bench.soak --clients 20 --duration 600            # starts its own `rag serve`
    python -m eval.bench.soak --url http://127.0.0.1:8000 --pid 1234  # an existing server

The writer uploads one fixed text document and deletes it again, so the index does not grow:
memory growth after the warm-up is the server's own. Its own server indexes a private copy of
the bundled sample (data/sample) and answers extractively (the default offline mode).
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
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO.parent / "shared" / "eval" / "seeds_dev.jsonl"
FALLBACK_QUESTIONS = [
    "Who chaired the Yangpu quarterly work meeting?", "What did the Pudong forum discuss?",
    "When was the humanoid robot innovation center opened?", "Which district held a safety meeting?",
]
WRITER_DOC = {"title": "Soak writer document", "name": "soak-writer",
              "text": "The soak writer adds this document and deletes it again. " * 20}


@dataclass
class Record:
    started: float  # seconds since the run began
    seconds: float
    status: int  # 0 = no reply (connection error or timeout)
    kind: str  # ask | upload | delete


@dataclass
class Run:
    records: list[Record] = field(default_factory=list)
    rss: list[tuple[float, float]] = field(default_factory=list)  # (seconds since start, MiB)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, record: Record) -> None:
        with self.lock:
            self.records.append(record)


def questions() -> list[str]:
    if SEEDS.is_file():
        return [json.loads(line)["question"] for line in SEEDS.read_text().splitlines() if line.strip()]
    return FALLBACK_QUESTIONS


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))] if ordered else float("nan")


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def start_server(workdir: Path, port: int, server_env: dict[str, str], probe: list[str]) -> subprocess.Popen:
    """`rag serve` over a private copy of the sample; `probe` = memprobe arguments (eval/bench/memprobe.py)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAG_RATE_LIMIT_PER_MINUTE": "0", "PYTHONPATH": str(REPO), **server_env}
    subprocess.run([sys.executable, "-m", "rag", "index", str(REPO / "data" / "sample"), "-c", "soak",
                    "--index-dir", str(workdir), "--no-progress"], check=True, env=env, capture_output=True)
    wrapper = [sys.executable, "-m", "eval.bench.memprobe", *probe, "--"] if probe else [sys.executable]
    return subprocess.Popen([*wrapper, "-m", "rag", "serve", "-c", "soak", "--index-dir", str(workdir),
                             "--port", str(port), "--log-level", "warning"], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def wait_ready(url: str, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            reply = httpx.get(f"{url}/readyz", timeout=5)
            # Also wait for the server's encoder measurement (it loads the second backend): a warm-up
            # that ends while the server is still loading it would count that load as growth.
            encoder = reply.json().get("encoder", {}) if reply.status_code == 200 else {}
            if reply.status_code == 200 and (encoder.get("measured", True) is not False or "error" in encoder):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} was not ready within {timeout_s:.0f} s")


def client_loop(url: str, qs: list[str], offset: int, t0: float, stop: threading.Event, run: Run) -> None:
    with httpx.Client(timeout=60) as client:
        i = offset
        while not stop.is_set():
            started = time.monotonic()
            try:
                status = client.post(f"{url}/v1/ask", json={"question": qs[i % len(qs)]}).status_code
            except httpx.HTTPError:
                status = 0
            run.add(Record(started - t0, time.monotonic() - started, status, "ask"))
            i += 1


def writer_loop(url: str, t0: float, stop: threading.Event, run: Run, pause_s: float) -> None:
    with httpx.Client(timeout=120) as client:
        while not stop.is_set():
            started = time.monotonic()
            try:
                reply = client.post(f"{url}/v1/documents", json=WRITER_DOC)
                status = reply.status_code
                ids = [d["doc_id"] for d in reply.json().get("documents", [])] if status == 201 else []
            except (httpx.HTTPError, ValueError):
                status, ids = 0, []
            run.add(Record(started - t0, time.monotonic() - started, status, "upload"))
            for doc_id in ids:
                started = time.monotonic()
                try:
                    status = client.delete(f"{url}/v1/documents/{doc_id}").status_code
                except httpx.HTTPError:
                    status = 0
                run.add(Record(started - t0, time.monotonic() - started, status, "delete"))
            stop.wait(pause_s)


def summarise(run: Run, duration: float, warmup: float, clients: int) -> dict:
    out: dict = {"clients": clients, "duration_s": duration, "warmup_s": warmup, "cpus": os.cpu_count()}
    for kind in ("ask", "upload", "delete"):
        rows = [r for r in run.records if r.kind == kind]
        ok = [r.seconds for r in rows if 200 <= r.status < 300]
        out[kind] = {
            "requests": len(rows), "errors": sum(1 for r in rows if not 200 <= r.status < 300),
            "server_errors": sum(1 for r in rows if r.status >= 500 or r.status == 0),
            "p50_ms": round(percentile(ok, 50) * 1000, 1), "p95_ms": round(percentile(ok, 95) * 1000, 1),
            "p99_ms": round(percentile(ok, 99) * 1000, 1), "per_s": round(len(rows) / duration, 2),
        }
    out["ask"]["per_s_per_core"] = round(out["ask"]["per_s"] / (os.cpu_count() or 1), 2)
    steady = [m for t, m in run.rss if t >= warmup]
    if steady:
        out["rss_mib"] = {"after_warmup": round(steady[0], 1), "end": round(steady[-1], 1), "max": round(max(steady), 1),
                          "growth_after_warmup_pct": round(100 * (steady[-1] - steady[0]) / steady[0], 1)}
    return out


def plot(run: Run, summary: dict, path: Path) -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, (lat, mem) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    for kind, colour in (("ask", "tab:blue"), ("upload", "tab:orange"), ("delete", "tab:green")):
        rows = [r for r in run.records if r.kind == kind]
        lat.scatter([r.started for r in rows], [r.seconds * 1000 for r in rows], s=3, c=colour, label=kind)
    lat.set_yscale("log")
    lat.set_ylabel("latency (ms)")
    ask = summary["ask"]
    lat.set_title(f"{summary['clients']} clients + writer: /v1/ask p50 {ask['p50_ms']} ms, p95 {ask['p95_ms']} ms, "
                  f"{ask['per_s']} req/s, {ask['errors']} errors")
    lat.legend()
    if run.rss:
        mem.plot([t for t, _ in run.rss], [m for _, m in run.rss])
    mem.axvline(summary["warmup_s"], color="grey", linestyle="--", label="end of warm-up")
    mem.set_ylabel("server RSS (MiB)")
    mem.set_xlabel("seconds")
    mem.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="an existing server; default: start `rag serve` over a copy of data/sample")
    ap.add_argument("--pid", type=int, help="the existing server's process id, for RSS")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    ap.add_argument("--warmup", type=float, default=None, help="seconds excluded from RSS growth (default 10%%)")
    ap.add_argument("--writer-pause", type=float, default=1.0, help="seconds between the writer's add/delete rounds")
    ap.add_argument("--no-writer", action="store_true")
    ap.add_argument("--out", type=Path, default=REPO / "eval" / "results" / "soak")
    ap.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment for the server it starts (e.g. RAG_MAX_CONCURRENT_QUERIES=2)")
    ap.add_argument("--memprobe", action="store_true",
                    help="start the server under eval/bench/memprobe.py: RSS vs Python vs malloc, OUT.memprobe.jsonl")
    ap.add_argument("--tracemalloc", action="store_true", help="with --memprobe: also trace Python allocations (slow)")
    args = ap.parse_args()
    server_env = dict(kv.split("=", 1) for kv in args.server_env)
    probe_path = args.out.with_suffix(".memprobe.jsonl")
    probe = [str(probe_path), *(["--tracemalloc"] if args.tracemalloc else [])] if args.memprobe else []
    if probe:
        probe_path.parent.mkdir(parents=True, exist_ok=True)
        probe_path.unlink(missing_ok=True)
    warmup = args.warmup if args.warmup is not None else args.duration * 0.1
    workdir = Path(tempfile.mkdtemp(prefix="rag-soak-"))
    server = None
    try:
        if args.url:
            url, pid = args.url.rstrip("/"), args.pid
        else:
            sock_port = _free_port()
            server = start_server(workdir, sock_port, server_env, probe)
            url, pid = f"http://127.0.0.1:{sock_port}", server.pid
        wait_ready(url)
        run, stop, t0 = Run(), threading.Event(), time.monotonic()
        qs = questions()
        threads = [threading.Thread(target=client_loop, args=(url, qs, i, t0, stop, run), daemon=True)
                   for i in range(args.clients)]
        if not args.no_writer:
            threads.append(threading.Thread(target=writer_loop, args=(url, t0, stop, run, args.writer_pause), daemon=True))
        for t in threads:
            t.start()
        baseline_sent = False
        while time.monotonic() - t0 < args.duration:
            if server is not None and probe and args.tracemalloc and not baseline_sent and time.monotonic() - t0 >= warmup:
                os.kill(server.pid, signal.SIGUSR1)  # memprobe: Python allocations compared from here on
                baseline_sent = True
            if pid:
                mib = rss_mib(pid)
                if mib is not None:
                    run.rss.append((time.monotonic() - t0, mib))
            time.sleep(1.0)
        stop.set()
        for t in threads:
            t.join(timeout=120)
        summary = summarise(run, args.duration, warmup, args.clients)
        summary["load_avg_at_end"] = os.getloadavg()
        summary["server_env"] = server_env
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_suffix(".json").write_text(json.dumps({**summary, "rss": run.rss}, indent=1))
        plot(run, summary, args.out.with_suffix(".png"))
        print(json.dumps(summary, indent=1))
        print(f"wrote {args.out.with_suffix('.json')} and {args.out.with_suffix('.png')}")
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)
        shutil.rmtree(workdir, ignore_errors=True)


def _free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    main()
