"""Retrieval quality levers on SciFact, each measured: one table, chosen on the tuning part, reported on the other.

    HF_HUB_OFFLINE=1 .venv/bin/python -m eval.bench.retrieval_levers            # ~25-45 min on 2 shared cores

1. Builds (or reuses) the collection `rag eval --dataset beir` uses (index/eval-beir-scifact) and
   runs today's default end to end on the report part (HybridRetriever: the product's p95).
2. Loads every chunk with its stored vector, embeds the tuning and report queries once, and
   scores each lever from full score matrices (eval/bench/levers/): BM25 k1/b, BM25 variants,
   stemming and stop words, title handling, RRF k and weights, convex fusion, candidate depth,
   chunk-to-document aggregation, RM3 feedback, the title in the embedded text, the sentence list (each chunk's best sentence, the
   chunk sentences embedded here as `rag index` stores them); then three query-time models that are measured
   but are not settings (dense Rocchio feedback, a learned re-scorer, a learned query adapter:
   eval/bench/levers/learned.py, adapter.py). Each lever is chosen on the tuning part only.
3. Runs the chosen default end to end again (same run, same machine) and prints one Markdown
   table with the date, machine and load, and writes the JSON beside the other benchmarks.

Query p95 in the lever rows: single-query MiniLM encode + exact dense search + BM25 scoring of the
setting + fusion, over the report queries. The two end-to-end rows are the product's own search
(HybridRetriever, 100 passages), the two settings alternating query by query so that both see the
same machine load (on a shared machine, runs minutes apart differ by 2-4x).
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench.common import REPO, SCIFACT, machine, table, write_result
from eval.bench.levers.data import load_chunks, load_queries
from eval.bench.levers.score import FusionConfig
from eval.bench.levers.search import Lab, Row, search
from eval.bench.levers.sentences import embed_sentences
from eval.bench.levers.titles import embed_titles
from rag.store.bm25 import DEFAULT_PARAMS

SPLITS = REPO / "eval" / "data"
# epochs, learning rates, hard negatives tried by the fine-tuning row's grouped hold-out (README)
ENCODER_GRID: tuple[tuple[int, ...], tuple[float, ...], tuple[int, ...]] = ((1, 2, 3), (2e-5, 1e-4), (1,))
# The retrieval settings before this table (RRF k=60, equal weights, 50 + 50 candidates, chunk order).
LEGACY: dict[str, Any] = {"fusion": "rrf", "rrf_k": 60, "dense_weight": 1.0, "bm25_weight": 1.0, "dense_depth": 50,
                          "bm25_depth": 50, "doc_aggregation": "none"}


def end_to_end(data: Path, index_dir: Path, split: Path, overrides: dict[str, Any], name: str,
               embedder: Any) -> dict[str, Any]:
    """`rag eval` on one part with the given settings: nDCG@10, MRR@10, recall@20, search p50/p95."""
    from eval.runner import EvalOptions, run_evaluation  # noqa: PLC0415
    from rag.settings import Settings  # noqa: PLC0415

    settings = Settings(index_dir=index_dir, **overrides)  # validated: enum names become enums
    run = run_evaluation(EvalOptions("beir", data, split=str(split), output=index_dir / "levers-runs",
                                     config_name=name, progress=False), settings, embedder=embedder)
    m = run.metrics
    return {"ndcg@10": m["retrieval"]["ndcg@10"], "mrr@10": m["retrieval"]["mrr@10"],
            "recall@20": m["retrieval"]["recall@20"], "search_p50_ms": m["latency_ms"]["search"]["p50_ms"],
            "search_p95_ms": m["latency_ms"]["search"]["p95_ms"], "questions": m["retrieval"]["scored_questions"],
            "index": m["index"], "folder": str(run.folder)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=SCIFACT, help="SciFact BEIR folder")
    ap.add_argument("--index-dir", type=Path, default=REPO / "index")
    ap.add_argument("--tune", type=Path, default=SPLITS / "scifact_tune.txt")
    ap.add_argument("--report", type=Path, default=SPLITS / "scifact_report.txt")
    ap.add_argument("--out", type=Path, default=None, help="JSON result path (default eval/results/bench/)")
    ap.add_argument("--encoder", type=Path, default=None,
                    help="MiniLM fine-tuned on the tuning part (`rag eval train-encoder ... --split "
                         "eval/data/scifact_tune.txt --select`); default <index-dir>/encoders/scifact-tune, "
                         "trained there first if missing (ENCODER_GRID; ~25-40 min on a quiet 2-core machine)")
    ap.add_argument("--no-encoder", action="store_true", help="Leave the fine-tuned encoder row out")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from rag.embed.torch_encoder import TorchEncoder as Embedder  # noqa: PLC0415

    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    embedder = Embedder()
    print("end to end, today's default (builds the index once) ...", flush=True)
    before = end_to_end(args.data, args.index_dir, args.report, LEGACY, "levers-before", embedder)

    chunks = load_chunks(args.index_dir / "eval-beir-scifact")
    tune, report = load_queries(args.data, args.tune, "tune"), load_queries(args.data, args.report, "report")
    print(f"{chunks.size} chunks of {len(chunks.doc_ids)} documents; {len(tune.qids)} tune, "
          f"{len(report.qids)} report queries", flush=True)
    qvecs = {qs.name: embedder.encode(list(qs.texts)) for qs in (tune, report)}
    dense = {name: v @ chunks.vectors.T for name, v in qvecs.items()}
    embed_ms = []
    for q in report.texts:  # one at a time, as a user's query arrives: encode + exact dense scores
        t = time.perf_counter()
        v = embedder.encode_query(q)
        np.argpartition(-(chunks.vectors @ v), 50)[:50]
        embed_ms.append((time.perf_counter() - t) * 1000)
    print("embedding every chunk sentence, every chunk without its title, every title ...", flush=True)
    lab = Lab(chunks, tune, report, dense, embed_ms, qvecs, sentences=embed_sentences(chunks, embedder),
              titles=embed_titles(chunks, embedder))
    rows, state = search(lab, FusionConfig())
    if not args.no_encoder:
        rows.insert(len(rows) - 1, encoder_row(args, lab, state, embedder))

    chosen = settings_of(state)
    product = {k: v for k, v in chosen.items() if not k.startswith("_")}
    print(f"end to end, chosen default {chosen} ...", flush=True)
    after = end_to_end(args.data, args.index_dir, args.report, product, "levers-after", embedder)
    after_tune = end_to_end(args.data, args.index_dir, args.tune, product, "levers-after-tune", embedder)
    before_tune = end_to_end(args.data, args.index_dir, args.tune, LEGACY, "levers-before-tune", embedder)
    paired = paired_latency(args.index_dir / "eval-beir-scifact", report.texts, LEGACY, product, embedder)
    before["paired"], after["paired"] = paired["before"], paired["after"]
    load = os.getloadavg()
    header = (f"SciFact retrieval levers, {started}, {machine()['platform']}, {os.cpu_count()} CPUs, "
              f"load average {load[0]:.1f} at the end; tune {len(tune.qids)} / report {len(report.qids)} "
              f"train queries; chosen on tune only")
    md = render(rows, before, after, before_tune, after_tune)
    print("\n" + header + "\n\n" + md)
    path = write_result("retrieval_levers", {"started": started, "rows": [r.as_dict() for r in rows],
                                             "chosen_settings": chosen, "end_to_end": {
                                                 "before_report": before, "after_report": after,
                                                 "before_tune": before_tune, "after_tune": after_tune},
                                             "table_md": md, "header": header}, args.out)
    print(f"\nwrote {path}")


def encoder_row(args: argparse.Namespace, lab: Lab, state: Any, embedder: Any) -> Row:
    """Train (or reuse) the fine-tuned encoder, re-index SciFact with it, score it (eval/bench/levers/finetune.py)."""
    from eval.bench.levers.finetune import score  # noqa: PLC0415
    from eval.bench.levers.score import Figures  # noqa: PLC0415
    from eval.train_encoder import TrainRequest, grid, train_command  # noqa: PLC0415
    from eval.train_encoder import EncoderTrainConfig  # noqa: PLC0415
    from rag.embed.torch_encoder import TorchEncoder  # noqa: PLC0415
    from rag.settings import Settings  # noqa: PLC0415

    model = args.encoder or args.index_dir / "encoders" / "scifact-tune"
    trained_s = 0.0
    if not model.exists():
        print(f"training the in-domain encoder into {model} (tuning part only) ...", flush=True)
        t = time.perf_counter()
        train_command(TrainRequest(args.data, str(args.tune), model, select_grid=grid(*ENCODER_GRID, EncoderTrainConfig())),
                      Settings(index_dir=args.index_dir))
        trained_s = time.perf_counter() - t
    product = {k: v for k, v in settings_of(state).items() if not k.startswith("_")}
    print(f"end to end, fine-tuned encoder {model} (re-indexes SciFact with it once) ...", flush=True)
    e2e = end_to_end(args.data, args.index_dir, args.report, {**product, "embedding_model": str(model)},
                     "levers-finetuned", TorchEncoder(str(model)))
    tuned = load_chunks(args.index_dir / collection_of(args, str(model)))
    mats, _, _ = lab.bm25(state.variant, state.prf)
    f = score(model, lab.chunks, tuned, lab.tune, lab.report, mats["report"], lab.dense["report"], state.cfg)
    sel = f.provenance.get("selection", {})
    held = sel.get("trials", [])
    chosen = sel.get("chosen", {})
    best = max((t["fused_ndcg@10"] for t in held), default=float("nan"))
    base = sel.get("base", {}).get("fused_ndcg@10", float("nan"))
    tune = Figures(best, float("nan"), float("nan"), [])
    final = rows_p95(lab, state)
    setting = (f"MiniLM fine-tuned on the 600 tuning claims ({f.provenance.get('examples')} examples, MNRL + "
               f"{chosen.get('hard_negatives', '?')} mined negative, {chosen.get('epochs', '?')} epoch(s), lr "
               f"{chosen.get('learning_rate', '?')}; chosen by a grouped hold-out of {sel.get('held_out_queries')} "
               f"tuning claims: fused {best:.4f} vs base {base:.4f}); dense alone on report {f.report_dense.ndcg10:.3f}; "
               f"report claims about abstracts no tuning claim cites (n={f.unseen_count}): {f.unseen_base.ndcg10:.3f} "
               f"-> {f.unseen.ndcg10:.3f}; end to end {e2e['ndcg@10']:.4f}")
    row = Row("in-domain encoder fine-tuning", setting, tune, f.report, 0.0, final, tried=len(held))
    row.detail = {"end_to_end": e2e, "unseen": {"queries": f.unseen_count, "base_ndcg@10": round(f.unseen_base.ndcg10, 4),
                                                "tuned_ndcg@10": round(f.unseen.ndcg10, 4)},
                  "selection": sel, "train_seconds_this_run": round(trained_s, 1), "model": str(model)}
    print(f"  {row.lever}: {row.setting}  report {row.report.ndcg10:.4f}", flush=True)
    return row


def paired_latency(folder: Path, queries: tuple[str, ...], before: dict[str, Any], after: dict[str, Any],
                   embedder: Any) -> dict[str, dict[str, float]]:
    """Search p50/p95 (ms) of two settings through HybridRetriever, alternating query by query on one snapshot.

    Alternating gives both settings the same machine load; each query is encoded inside the timed
    search, as a user's query is.
    """
    from eval.metrics import percentile  # noqa: PLC0415
    from rag.retrieve.hybrid import HybridRetriever  # noqa: PLC0415
    from rag.settings import Settings  # noqa: PLC0415
    from rag.store.collection import Collection  # noqa: PLC0415

    times: dict[str, list[float]] = {"before": [], "after": []}
    with Collection(folder).open_snapshot() as snap:
        retrievers = {name: HybridRetriever(snap, embedder, Settings(index_dir=folder.parent, collection=folder.name, **o))
                      for name, o in (("before", before), ("after", after))}
        for r in retrievers.values():
            r.search(queries[0], 100)  # warm both (first FAISS / BM25 touches)
        for q in queries:
            for name, r in retrievers.items():
                t = time.perf_counter()
                r.search(q, 100)
                times[name].append((time.perf_counter() - t) * 1000)
    return {name: {"p50_ms": percentile(ts, 50), "p95_ms": percentile(ts, 95)} for name, ts in times.items()}


def rows_p95(lab: Lab, state: Any) -> float:
    """Query p95 of the chosen setting: the fine-tuned model has the same architecture, so the same cost."""
    return lab.row("p95", state.variant, state.prf, state.cfg).query_p95_ms


def collection_of(args: argparse.Namespace, model: str) -> str:
    from eval.adapters import load_beir  # noqa: PLC0415
    from eval.runner import EvalOptions, collection_name  # noqa: PLC0415

    return collection_name(EvalOptions("beir", args.data), load_beir(args.data, str(args.report)), model)


def settings_of(state: Any) -> dict[str, Any]:
    """The product settings that reproduce the chosen state."""
    cfg, v = state.cfg, state.variant
    out: dict[str, Any] = {"fusion": cfg.fusion.value, "rrf_k": cfg.rrf_k, "dense_weight": cfg.dense_weight,
                           "bm25_weight": cfg.bm25_weight, "dense_depth": cfg.dense_depth,
                           "bm25_depth": cfg.bm25_depth, "doc_aggregation": cfg.aggregation.value,
                           "doc_aggregation_top_n": cfg.top_n}
    notes = {}
    if v.params != DEFAULT_PARAMS:
        notes["bm25_params"] = asdict(v.params)  # index-time: rag/store/bm25.py DEFAULT_PARAMS, then re-index
    if v.title != "prefix":
        notes["bm25_title"] = v.title
    if state.prf is not None:
        notes["prf"] = asdict(state.prf)
    if notes:
        out["_not_a_setting"] = notes
    return out


def render(rows: list[Row], before: dict[str, Any], after: dict[str, Any], before_tune: dict[str, Any],
           after_tune: dict[str, Any]) -> str:
    cols = ["lever", "setting (best on tune)", "tune nDCG@10", "report nDCG@10", "report recall@100",
            "report MRR@10", "ingest cost", "query p95 ms", "kept"]
    out = []
    for r in rows:
        out.append({"lever": r.lever, "setting (best on tune)": r.setting, "tune nDCG@10": f"{r.tune.ndcg10:.3f}"
                    + (" (hold-out)" if r.lever.startswith("in-domain") else ""),
                    "report nDCG@10": f"{r.report.ndcg10:.3f}", "report recall@100": f"{r.report.recall100:.3f}",
                    "report MRR@10": f"{r.report.mrr10:.3f}",
                    "ingest cost": r.ingest_note or (f"BM25 build {r.ingest_s:.1f} s" if r.ingest_s else
                    ("a training run once; ingest as the default (same architecture)" if r.lever.startswith("in-domain")
                     else "none")),
                    "query p95 ms": f"{r.query_p95_ms:.1f}", "kept": "yes" if r.chosen else "",
                    })
    for label, b, t in (("end to end: today's default", before, before_tune),
                        ("end to end: chosen default", after, after_tune)):
        out.append({"lever": label, "setting (best on tune)": "HybridRetriever via rag eval, depth 100",
                    "tune nDCG@10": f"{t['ndcg@10']:.3f}", "report nDCG@10": f"{b['ndcg@10']:.3f}",
                    "report recall@100": "", "report MRR@10": f"{b['mrr@10']:.3f}", "ingest cost": "",
                    "query p95 ms": f"{b['paired']['p95_ms']:.1f} (p50 {b['paired']['p50_ms']:.1f})", "kept": ""})
    return table(out, cols)


if __name__ == "__main__":
    main()
