"""Ours vs LlamaIndex vs Haystack (each with its defaults, same MiniLM model) on one retrieval set.

    make peers                                                                  # the peer venvs, once
    HF_HUB_OFFLINE=1 .venv/bin/python -m eval.bench.compare_peers --data squad2         # nDCG@10 with real labels
    HF_HUB_OFFLINE=1 .venv/bin/python -m eval.bench.compare_peers --data scifact        # SciFact ingest at full size
    HF_HUB_OFFLINE=1 .venv/bin/python -m eval.bench.compare_peers --data squad2 --limit 40   # smoke test

--data squad2: SQuAD 2.0's 411 contexts as the corpus, its answerable questions as queries and
their context as the one relevant document (eval/bench/beir_convert.py). --data scifact: the
whole SciFact corpus, scored on the report part of the train queries (eval/data/scifact_report.txt,
never used to tune anything), the same qrels `rag eval` and the levers table report on.
`--limit N` keeps the first N SciFact documents (a smoke test, figures not comparable); `--split`
picks another split file. Every system reads the same BEIR folder
through eval.adapters.load_beir and is scored by eval.metrics; ingest excludes model loading;
query latency is one query at a time, 100 chunks retrieved and collapsed to documents.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from eval.adapters.split_file import read_split_file, write_split_file
from eval.bench.beir_convert import squad2_to_beir
from eval.bench.common import REPO, SCIFACT, SHARED, table, write_result

PEERS = {"llamaindex": (".venv-llamaindex", "llamaindex_scifact.py"),
         "haystack": (".venv-haystack", "haystack_scifact.py")}
CHUNK_K = 100


def prepare(data: str, work: Path, limit: int | None, split: Path) -> tuple[Path, str]:
    """A BEIR folder for the chosen data and the qrels split (or split file) to score."""
    dest = work / f"{data}-beir"
    if data == "squad2":
        squad2_to_beir(SHARED / "eval" / "squad2", dest, contexts=limit)
        return dest, "test"
    if limit is None:
        return SCIFACT, str(split.resolve())
    # a slice: the first N abstracts, the qrels rows on them, the report ids that keep a relevant one
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "qrels").mkdir(exist_ok=True)
    with (SCIFACT / "corpus.jsonl").open(encoding="utf-8") as src:
        lines = [line for _, line in zip(range(limit), src)]
    (dest / "corpus.jsonl").write_text("".join(lines), encoding="utf-8")
    ids = {json.loads(x)["_id"] for x in lines}
    rows = (SCIFACT / "qrels" / "train.tsv").read_text(encoding="utf-8").splitlines()
    kept = [r for r in rows[1:] if r.split("\t")[1] in ids and int(r.split("\t")[2]) > 0]
    (dest / "qrels" / "train.tsv").write_text("\n".join([rows[0], *kept]) + "\n", encoding="utf-8")
    (dest / "queries.jsonl").write_text((SCIFACT / "queries.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    scored = {r.split("\t")[0] for r in kept}
    wanted, qrels = read_split_file(split)
    sliced = dest / f"{split.stem}_first{limit}.txt"
    write_split_file(sliced, [q for q in wanted if q in scored], qrels or "train",
                     f"{split.name} ids with a relevant document among the first {limit} abstracts")
    return dest, str(sliced)


def run_ours(folder: Path, split: str, work: Path) -> list[dict[str, Any]]:
    """Our pipeline on a fresh index (ingest timed), then fused and dense-only retrieval."""
    from eval.runner import EvalOptions, run_evaluation  # noqa: PLC0415
    from rag.embed.factory import make_encoder  # noqa: PLC0415
    from rag.settings import Settings  # noqa: PLC0415

    settings = Settings(index_dir=work / "index")
    t = time.perf_counter()
    embedder = make_encoder(settings, "document")
    load_s = time.perf_counter() - t
    rows = []
    for name, update in (("ours (hybrid)", {}), ("ours (dense only)", {"bm25_weight": 0.0})):
        opts = EvalOptions("beir", folder, split=split, output=work / "results", retrieval_only=True,
                           depth=CHUNK_K, progress=False)
        run = run_evaluation(opts, settings.model_copy(update=update), embedder=embedder)
        m = run.metrics
        ingest = m["index"]["seconds"].get("total") if m["index"]["chunks_added"] else None
        rows.append({"system": name, "ingest_s": round(ingest, 2) if ingest is not None else rows[0]["ingest_s"],
                     "chunks": run.config["index"]["chunks"],
                     "query_p50_ms": round(m["latency_ms"]["search"]["p50_ms"], 2),
                     "query_p95_ms": round(m["latency_ms"]["search"]["p95_ms"], 2),
                     "ndcg10": round(m["retrieval"]["ndcg@10"], 4), "n_queries": m["retrieval"]["scored_questions"],
                     "model_load_s": round(load_s, 2), "results": str(run.folder)})
    return rows


def run_peer(name: str, folder: Path, split: str) -> dict[str, Any]:
    venv, script = PEERS[name]
    python = REPO / venv / "bin" / "python"
    if not python.exists():
        return {"system": name, "error": f"{python} missing: run `make peers` first"}
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.run([str(python), str(REPO / "eval" / "bench" / "peers" / script), "--data", str(folder),
                           "--split", split, "--chunk-k", str(CHUNK_K)], cwd=REPO, env=env, capture_output=True,
                          text=True)
    lines = [x for x in proc.stdout.splitlines() if x.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"system": name, "error": f"exit {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-400:]}"}
    return json.loads(lines[-1])


def with_ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each system's figures over ours (hybrid): >1 means slower / more, for ndcg10 higher is better."""
    base = rows[0]
    for r in rows:
        for key in ("ingest_s", "query_p50_ms", "query_p95_ms", "ndcg10", "chunks"):
            if isinstance(r.get(key), (int, float)) and base.get(key):
                r[f"{key} / ours"] = round(r[key] / base[key], 2)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", choices=("squad2", "scifact"), default="squad2")
    ap.add_argument("--limit", type=int, default=None, help="squad2: first N contexts; scifact: first N documents")
    ap.add_argument("--peers", default="llamaindex,haystack", help="comma-separated; empty for ours only")
    ap.add_argument("--split", type=Path, default=REPO / "eval" / "data" / "scifact_report.txt",
                    help="scifact: the file of query ids scored (default: the report part)")
    ap.add_argument("--work", type=Path, default=None, help="working folder (default: a temporary one)")
    ap.add_argument("--out", type=Path, default=None, help="JSON result file")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="rag-peers-") as tmp:
        work = a.work or Path(tmp)
        folder, split = prepare(a.data, work, a.limit, a.split)
        rows = run_ours(folder, split, work)
        for name in [p for p in a.peers.split(",") if p]:
            print(f"running {name} ...", flush=True)
            rows.append(run_peer(name, folder, split))
    rows = with_ratios(rows)
    cols = ["system", "ingest_s", "chunks", "query_p50_ms", "query_p95_ms", "ndcg10",
            "ingest_s / ours", "query_p50_ms / ours", "query_p95_ms / ours", "ndcg10 / ours"]
    print(f"\n{a.data} ({'report part of the train queries' if a.data == 'scifact' else 'answerable questions'}), "
          f"{rows[0].get('n_queries')} queries\n")
    print(table(rows, cols))
    for r in rows:
        if "error" in r:
            print(f"{r['system']}: {r['error']}")
    path = write_result(f"peers-{a.data}", {"args": {k: str(v) for k, v in vars(a).items()}, "split": split,
                                            "rows": rows}, a.out)
    print(f"\nwritten: {path}")


if __name__ == "__main__":
    main()
