"""What a user waits for, end to end: the issue-11 table (eval/bench/README figures come from here).

    nice python -m eval.bench.speed [--index-dir DIR] [--rounds 5] [--scifact-collection C]

On the bundled sample (indexed into --index-dir first if missing, which also exports the ONNX encoder):
- whole `rag ask` process, spawn -> exit (the answer is printed last), ONNX query path vs torch (median of --cold runs);
- `rag serve` start -> first /readyz 200;
- /v1/search (k=10) and /v1/ask (extractive) p50/p95 over HTTP, seeds_dev questions x --rounds, sequential,
  after the server's encoder measurement is over (/readyz says which backend serves);
- the bare loop in this process: torch MiniLM encode + FAISS flat + bm25s + RRF over the same chunks, p95;
With --scifact-collection (an index of SciFact under --index-dir): hybrid search p95 in process and the
same bare loop over SciFact. Prints the load beside the figures; writes eval/results/bench/<time>-speed.json.
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

from eval.bench.common import REPO, SCIFACT, SHARED, read_jsonl, write_result

SEEDS = SHARED / "eval" / "seeds_dev.jsonl"
SAMPLE = REPO / "data" / "sample"


def pct(ms: list[float], p: float) -> float:
    s = sorted(ms)
    return round(s[min(len(s) - 1, int(round(p * (len(s) - 1))))], 2)


def summary(ms: list[float]) -> dict[str, float]:
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 2), "p95_ms": pct(ms, 0.95)}


def env_for(index_dir: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "RAG_INDEX_DIR": str(index_dir), "RAG_COLLECTION": "sample", "HF_HUB_OFFLINE": "1"}
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


def serve_and_query(index_dir: Path, questions: list[str], rounds: int) -> dict[str, Any]:
    port = free_port()
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "rag", "serve", "--port", str(port), "--log-level", "warning"],
                            env=env_for(index_dir), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            status, ready = get(base + "/readyz")
            if status == 200:
                break
            if proc.poll() is not None or time.perf_counter() - t > 120:
                raise SystemExit("rag serve did not become ready")
            time.sleep(0.02)
        ready_s = time.perf_counter() - t
        deadline = time.time() + 180  # the server times torch against ONNX in the background: let it finish
        while time.time() < deadline:
            _, ready = get(base + "/readyz")
            if not ready or (ready.get("encoder") or {}).get("measured") is not False:
                break
            time.sleep(0.5)
        for q in questions[:3]:  # warm-up
            get(f"{base}/v1/search?" + urllib.parse.urlencode({"q": q, "k": 10}))
            post(base + "/v1/ask", {"question": q, "mode": "extractive"})
        search, ask = [], []
        for _ in range(rounds):
            for q in questions:
                t0 = time.perf_counter()
                status, _ = get(f"{base}/v1/search?" + urllib.parse.urlencode({"q": q, "k": 10}))
                search.append((time.perf_counter() - t0) * 1000)
                assert status == 200, status
                t0 = time.perf_counter()
                post(base + "/v1/ask", {"question": q, "mode": "extractive"})
                ask.append((time.perf_counter() - t0) * 1000)
        return {"serve_ready_s": round(ready_s, 2), "encoder": (ready or {}).get("encoder"),
                "search": summary(search), "ask": summary(ask)}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


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
    return summary(times)


def in_process_search(index_dir: Path, collection: str, questions: list[str], rounds: int) -> dict[str, Any]:
    from rag.embed.factory import make_encoder
    from rag.retrieve.hybrid import HybridRetriever
    from rag.settings import Settings
    from rag.store.collection import Collection

    settings = Settings(index_dir=index_dir, collection=collection)
    with Collection(settings.collection_dir).open_snapshot() as snap:
        enc = make_encoder(settings, "server", snap.manifest)
        if hasattr(enc, "wait"):
            enc.wait(180)
        retriever = HybridRetriever(snap, enc, settings)
        for q in questions[:3]:
            retriever.search(q, 10)
        times = []
        for _ in range(rounds):
            for q in questions:
                t = time.perf_counter()
                retriever.search(q, 10)
                times.append((time.perf_counter() - t) * 1000)
        return {**summary(times), "encoder": getattr(enc, "report", enc.identity.describe())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index-dir", type=Path, default=REPO / "index")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cold", type=int, default=5)
    ap.add_argument("--scifact-collection", default=None)
    ap.add_argument("--scifact-queries", type=int, default=300)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    load0 = os.getloadavg()
    if not (a.index_dir / "sample").exists():
        subprocess.run([sys.executable, "-m", "rag", "index", str(SAMPLE), "--no-progress"],
                       env=env_for(a.index_dir), check=True, cwd=REPO)
    questions = [r["question"] for r in read_jsonl(SEEDS)]
    q0 = "Who chaired the Yangpu quarterly work meeting?"
    result: dict[str, Any] = {"load_at_start": load0}
    result["rag_ask_process_onnx"] = cold_ask(a.index_dir, q0, a.cold, "auto")
    result["rag_ask_process_torch"] = cold_ask(a.index_dir, q0, a.cold, "torch")
    result["http"] = serve_and_query(a.index_dir, questions, a.rounds)
    result["bare_loop_sample"] = bare_loop(a.index_dir, "sample", questions, a.rounds)
    result["search_over_bare_p95"] = round(result["http"]["search"]["p95_ms"] / result["bare_loop_sample"]["p95_ms"], 2)
    if a.scifact_collection:
        sq = [r["text"] for r in read_jsonl(SCIFACT / "queries.jsonl", a.scifact_queries)]
        result["scifact_search_in_process"] = in_process_search(a.index_dir, a.scifact_collection, sq, 1)
        result["bare_loop_scifact"] = bare_loop(a.index_dir, a.scifact_collection, sq, 1)
        result["scifact_over_bare_p95"] = round(
            result["scifact_search_in_process"]["p95_ms"] / result["bare_loop_scifact"]["p95_ms"], 2)
    result["load_at_end"] = os.getloadavg()
    print(json.dumps(result, indent=2))
    print("wrote", write_result("speed", result, a.out))


if __name__ == "__main__":
    main()
