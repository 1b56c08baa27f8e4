"""What a user waits for, end to end: every target row of issue 11 in one run, as a table.

    python -m eval.bench.speed --prebuild              # once, before the timed window (SciFact fp32 reference + default collection)
    python -m eval.bench.speed --all --out eval/results/speed.md      # the table (~7 min quiet)

On the bundled sample (indexed into --index-dir/sample first if missing, which also exports the ONNX encoder):
- whole `rag ask` process, spawn -> exit (the answer is printed last), ONNX query path vs torch (median of --cold);
- `rag serve` start -> first /readyz 200 (median of --ready-runs starts);
- /v1/search (k=10) and /v1/ask (extractive) p50/p95 over HTTP, seeds_dev questions x --rounds, sequential,
  after the server's encoder measurement is over (/readyz says which backend serves);
- the bare loop in this process: torch MiniLM encode + FAISS flat + bm25s + RRF over the same chunks, p95.
With --scifact (or --all): hybrid search p95 in process over the default configuration's SciFact collection
(--prebuild builds it under --index-dir/default), the bare torch loop over the reference's chunks, and whole-corpus ingests (eval/bench/speed_scifact.py) with nDCG@10 against the fp32 reference.
Prints the load beside the figures; writes eval/results/bench/<time>-speed.json (and --out as Markdown).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench import speed_scifact as sci
from eval.bench.common import REPO, SCIFACT, SHARED, p50_p95, read_jsonl, write_result

SEEDS = SHARED / "eval" / "seeds_dev.jsonl"
SAMPLE = REPO / "data" / "sample"


def env_for(index_dir: Path, **extra: str) -> dict[str, str]:
    # No rate limit: the benchmark sends a few hundred requests a minute from one client.
    env = {**os.environ, "RAG_INDEX_DIR": str(index_dir), "RAG_COLLECTION": "sample", "HF_HUB_OFFLINE": "1",
           "RAG_RATE_LIMIT_PER_MINUTE": "0"}
    env.pop("RAG_EMBED_BACKEND", None)
    return {**env, **extra}


def cold_ask(index_dir: Path, question: str, runs: int, backend: str) -> dict[str, Any]:
    times = []
    extra = {"RAG_EMBED_BACKEND": backend} if backend != "auto" else {}
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "rag", "ask", question], env=env_for(index_dir, **extra),
                              capture_output=True, text=True, cwd=REPO)
        times.append((time.perf_counter() - t) * 1000)
        if proc.returncode != 0:
            raise SystemExit(f"rag ask failed: {proc.stderr[-2000:]}")
    return {"median_s": round(statistics.median(times) / 1000, 2), "runs_s": [round(t / 1000, 2) for t in times]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, None
    except OSError:
        return 0, None


def post(url: str, body: dict[str, Any]) -> Any:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def start_server(index_dir: Path) -> tuple[subprocess.Popen, str, float]:
    """`rag serve` on a free port; returns the process, its URL and the seconds to the first /readyz 200."""
    port = free_port()
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "rag", "serve", "--port", str(port), "--log-level", "warning"],
                            env=env_for(index_dir), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    while get(base + "/readyz")[0] != 200:
        if proc.poll() is not None or time.perf_counter() - t > 120:
            proc.kill()
            raise SystemExit("rag serve did not become ready")
        time.sleep(0.01)
    return proc, base, time.perf_counter() - t


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=30)


def serve_and_query(index_dir: Path, questions: list[str], rounds: int, ready_runs: int) -> dict[str, Any]:
    ready_s = []
    for _ in range(ready_runs - 1):
        proc, _, seconds = start_server(index_dir)
        ready_s.append(seconds)
        stop(proc)
    proc, base, seconds = start_server(index_dir)
    ready_s.append(seconds)
    try:
        deadline = time.time() + 300  # the server times torch against ONNX in the background: let it finish
        ready: Any = None
        while time.time() < deadline:
            _, ready = get(base + "/readyz")
            if not ready or (ready.get("encoder") or {}).get("measured") is not False:
                break
            time.sleep(0.5)
        for q in questions[:3]:  # warm-up
            get(f"{base}/v1/search?" + urllib.parse.urlencode({"q": q, "k": 10}))
            post(base + "/v1/ask", {"question": q, "mode": "extractive"})
        # One block per route (each in its steady state), sequential like one user.
        search, ask = [], []
        for _ in range(rounds):
            for q in questions:
                t0 = time.perf_counter()
                status, _ = get(f"{base}/v1/search?" + urllib.parse.urlencode({"q": q, "k": 10}))
                search.append((time.perf_counter() - t0) * 1000)
                assert status == 200, status
        for _ in range(rounds):
            for q in questions:
                t0 = time.perf_counter()
                post(base + "/v1/ask", {"question": q, "mode": "extractive"})
                ask.append((time.perf_counter() - t0) * 1000)
        return {"serve_ready_s": round(statistics.median(ready_s), 2), "serve_ready_runs_s": [round(x, 2) for x in ready_s],
                "encoder": (ready or {}).get("encoder"), "search": p50_p95(search), "ask": p50_p95(ask)}
    finally:
        stop(proc)


def bare_loop(index_dir: Path, collection: str, questions: list[str], rounds: int) -> dict[str, Any]:
    """The anchor: torch MiniLM encode + FAISS flat IP + bm25s + RRF, nothing else, same chunks."""
    import bm25s
    import faiss
    import Stemmer

    from rag.embed.torch_encoder import TorchEncoder
    from rag.store.collection import Collection

    with Collection(index_dir / collection).open_snapshot() as snap:
        ids = snap.index.ids()
        texts_by_row = {r: f"{p.title}\n{p.text}" for r, p in snap.passages(ids.tolist()).items()}
        vecs = np.vstack([snap.index.vectors._index.reconstruct(int(i)) for i in ids]).astype(np.float32)  # noqa: SLF001
    texts = [texts_by_row[int(i)] for i in ids]
    flat = faiss.IndexFlatIP(vecs.shape[1])
    flat.add(vecs)
    stemmer = Stemmer.Stemmer("english")
    bm = bm25s.BM25()
    bm.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    enc = TorchEncoder()
    depth = min(50, len(texts))

    def one(q: str) -> None:
        qv = enc.encode_query(q)
        _, d = flat.search(qv[None, :], depth)
        r, _ = bm.retrieve(bm25s.tokenize([q], stopwords="en", stemmer=stemmer, show_progress=False), k=depth,
                           show_progress=False)
        scores: dict[int, float] = {}
        for lst in (d[0].tolist(), r[0].tolist()):
            for rank, i in enumerate(lst):
                scores[int(i)] = scores.get(int(i), 0.0) + 1.0 / (60 + rank + 1)
        sorted(scores.items(), key=lambda x: -x[1])[:10]

    for q in questions[:3]:
        one(q)
    times = []
    for _ in range(rounds):
        for q in questions:
            t = time.perf_counter()
            one(q)
            times.append((time.perf_counter() - t) * 1000)
    return p50_p95(times)


def rows_of(r: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(measure, target, measured) for every issue-11 row the run produced."""
    rows = []
    if "rag_ask_process_onnx" in r:
        rows.append(("whole `rag ask` process, sample (ONNX query path)", "<= 1.5 s",
                     f"{r['rag_ask_process_onnx']['median_s']} s median of {len(r['rag_ask_process_onnx']['runs_s'])}"))
        rows.append(("the same with RAG_EMBED_BACKEND=torch", "",
                     f"{r['rag_ask_process_torch']['median_s']} s"))
    if "http" in r:
        h = r["http"]
        rows.append(("`rag serve` start -> /readyz 200", "<= 2 s",
                     f"{h['serve_ready_s']} s median of {len(h['serve_ready_runs_s'])}"))
        rows.append(("server's encoder measurement", "", json.dumps(h["encoder"])))
        rows.append(("`/v1/search` over HTTP, sample, k=10", "p95 <= 10 ms",
                     f"p50 {h['search']['p50_ms']} ms, p95 {h['search']['p95_ms']} ms (n={h['search']['n']})"))
        rows.append(("`/v1/ask` over HTTP, sample, extractive", "p95 <= 60 ms",
                     f"p50 {h['ask']['p50_ms']} ms, p95 {h['ask']['p95_ms']} ms (n={h['ask']['n']})"))
        b = r["bare_loop_sample"]
        rows.append(("bare torch MiniLM + FAISS + bm25s + RRF loop, sample, same run", "",
                     f"p50 {b['p50_ms']} ms, p95 {b['p95_ms']} ms"))
        rows.append(("`/v1/search` p95 / bare loop p95", "<= 0.7", str(r["search_over_bare_p95"])))
    if "scifact_search_in_process" in r:
        s_ = r["scifact_search_in_process"]
        rows.append((f"SciFact hybrid search in process, k=10, default collection ({s_.get('encoder', '?')})", "p95 <= 8 ms",
                     f"p50 {s_['p50_ms']} ms, p95 {s_['p95_ms']} ms (n={s_['n']}; parts p50 {s_['parts_p50_ms']})"))
        b = r["bare_loop_scifact"]
        rows.append(("bare torch fp32 loop over the reference SciFact chunks, same run", "",
                     f"p50 {b['p50_ms']} ms, p95 {b['p95_ms']} ms; ratio of p95s {r['scifact_over_bare_p95']}"))
    if "reference" in r:
        ref = r["reference"]
        rows.append((f"SciFact reference index (--prebuild; built by {ref.get('built_by', '?')})", "",
                     f"index {ref['index_s']} s, nDCG@10 {ref['ndcg@10']:.4f} (load after {ref['load_after']})"))
    built_by = str(r.get("reference", {}).get("built_by", "fp32"))
    ref_name = "fp32" if "fp32" in built_by else f"the reference ({built_by})"
    for row in r.get("ingest", []):
        rows.append((f"SciFact ingest, {r.get('scifact_docs', 'all 5,183')} abstracts, retrieval-only, `{row['config']}`",
                     "<= 150 s, nDCG@10 +-0.005",
                     f"{row['index_s']} s ({row.get('parts_s', {})}, {row['chunks']} chunks); nDCG@10 "
                     f"{row['ndcg@10']:.4f} ({row['ndcg_vs_fp32']:+.4f} vs {ref_name})"))
    return rows


def _cell(text: object) -> str:
    """A Markdown table cell: encoder compat keys hold '|' (model|family), which would split the row."""
    return str(text).replace("|", "\\|")


def markdown(r: dict[str, Any]) -> str:
    head = (f"load average at start {r['load_at_start'][0]:.2f}, at end {r['load_at_end'][0]:.2f}; "
            f"{os.cpu_count()} cores; {cpu_name()}; the run took {r.get('run_s', 0):.0f} s")
    lines = [head, "", "| measure | target | measured |", "|---|---|---|"]
    lines += [f"| {_cell(a)} | {_cell(b)} | {_cell(c)} |" for a, b, c in rows_of(r)]
    return "\n".join(lines) + "\n"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "CPU unknown"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index-dir", type=Path, default=REPO / "index")
    ap.add_argument("--all", action="store_true", help="every row: sample, SciFact search and SciFact ingests")
    ap.add_argument("--prebuild", action="store_true", help="build the SciFact fp32 reference index and stop")
    ap.add_argument("--reference-config", default="fp32-torch", help="what --prebuild builds the reference with: "
                    "fp32-torch (the issue's reference) or default (bf16 where native: faster, same vector family)")
    ap.add_argument("--scifact", action="store_true", help="SciFact rows (needs --prebuild first)")
    ap.add_argument("--ingest-configs", default="default,fp-torch,int8-onnx",
                    help=f"SciFact ingests to time, of {','.join(sci.INGEST_CONFIGS)} ('' = none)")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--cold", type=int, default=5)
    ap.add_argument("--ready-runs", type=int, default=3)
    ap.add_argument("--scifact-queries", type=int, default=300)
    ap.add_argument("--scifact-limit", type=int, default=None, help="only the first N abstracts (a dry run)")
    ap.add_argument("--out", type=Path, default=None, help="also write the table here (Markdown)")
    a = ap.parse_args()
    a.index_dir = a.index_dir.resolve()
    if a.prebuild:
        print(json.dumps(sci.prebuild(a.index_dir, a.scifact_limit, a.reference_config), indent=2))
        return
    scifact = a.all or a.scifact
    if scifact:
        sci.reference(a.index_dir, a.scifact_limit)  # fail now, not after the sample rows, when it was not built
    load0, started = os.getloadavg(), time.perf_counter()
    if not (a.index_dir / "sample").exists():
        subprocess.run([sys.executable, "-m", "rag", "index", str(SAMPLE), "--no-progress"],
                       env=env_for(a.index_dir), check=True, cwd=REPO)
    questions = [r["question"] for r in read_jsonl(SEEDS)]
    q0 = "Who met with Ge Lihe?"
    result: dict[str, Any] = {"load_at_start": load0}
    result["rag_ask_process_onnx"] = cold_ask(a.index_dir, q0, a.cold, "auto")
    result["rag_ask_process_torch"] = cold_ask(a.index_dir, q0, max(1, a.cold // 2), "torch")
    result["http"] = serve_and_query(a.index_dir, questions, a.rounds, a.ready_runs)
    result["bare_loop_sample"] = bare_loop(a.index_dir, "sample", questions, a.rounds)
    result["search_over_bare_p95"] = round(result["http"]["search"]["p95_ms"] / result["bare_loop_sample"]["p95_ms"], 2)
    if scifact:
        if a.scifact_limit:
            result["scifact_docs"] = f"the first {a.scifact_limit}"
        sq = [r["text"] for r in read_jsonl(SCIFACT / "queries.jsonl", a.scifact_queries)]
        result["reference"] = sci.reference(a.index_dir, a.scifact_limit)
        result["scifact_search_in_process"] = sci.in_process_search(a.index_dir, sq, 1, a.scifact_limit)
        result["bare_loop_scifact"] = bare_loop(a.index_dir, sci.collection(a.scifact_limit), sq, 1)
        result["scifact_over_bare_p95"] = round(
            result["scifact_search_in_process"]["p95_ms"] / result["bare_loop_scifact"]["p95_ms"], 2)
        result["ingest"] = [sci.ingest(a.index_dir, c, a.scifact_limit) for c in a.ingest_configs.split(",") if c]
    result["load_at_end"] = os.getloadavg()
    result["run_s"] = round(time.perf_counter() - started, 1)
    table = markdown(result)
    print(table)
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(table, encoding="utf-8")
    print("wrote", write_result("speed", result, None))


if __name__ == "__main__":
    main()
