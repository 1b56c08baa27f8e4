"""Calibrate the refusal thresholds: `python -m rag.answer.calibrate [--squad-limit N]`.

For every question of /work/shared/eval/seeds_dev.jsonl (over the bundled sample corpus) and of
SQuAD 2.0 dev (over its 411 paragraphs), retrieve k passages, score the answer sentences as the
extractive answerer does, and record two evidence scores: the best dense cosine among the hits and
the best answer-sentence score. It prints their distributions for answerable and unanswerable
questions, then grid-searches (min_dense, min_support): among the pairs that refuse every
unanswerable seeds question and answer >= 90 % of the answerable ones, even when moved by a
safety margin (+-0.05 dense, +-0.03 support), it takes the best SQuAD 2.0 balanced accuracy (mean
of "answerable answered" and "unanswerable refused"). The seeds set is the product's own domain
and decides the feasible range; SQuAD's adversarial unanswerables break ties within it.

Retrieval is the product's: each corpus is indexed into a temporary collection with `index_paths`
and searched with `HybridRetriever` under the default settings (k, fusion, automatic date filter).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.answer.extractive import ExtractiveAnswerer
from rag.cite.verify import CitationVerifier
from rag.embed.factory import make_encoder
from rag.embed.protocols import DocumentEncoder
from rag.pipeline.indexer import index_paths
from rag.retrieve.hybrid import HybridRetriever
from rag.settings import Settings
from rag.store.collection import Collection

EVAL_DIR = Path("/work/shared/eval")
SAMPLE_DIR = Path(__file__).resolve().parents[2] / "data" / "sample"

@dataclass
class Row:
    dataset: str
    qid: str
    answerable: bool
    best_dense: float
    best_support: float
    gold_in_best: bool  # a gold answer string occurs in the top-scored sentence


def load_questions(dataset: str, limit: int | None) -> tuple[list[Path], list[dict]]:
    """(paths to index, question records) of one evaluation set."""
    if dataset == "seeds":
        path, paths = EVAL_DIR / "seeds_dev.jsonl", [SAMPLE_DIR]
    else:
        path, paths = EVAL_DIR / "squad2" / "questions_dev.jsonl", [EVAL_DIR / "squad2" / "contexts.jsonl"]
    qs = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    return paths, qs[:limit] if limit else qs


def measure(dataset: str, limit: int | None, embedder: DocumentEncoder, settings: Settings, workdir: Path) -> list[Row]:
    """Index the dataset's corpus into a scratch collection and score every question as the product would."""
    paths, questions = load_questions(dataset, limit)
    s = settings.model_copy(update={"index_dir": workdir, "collection": dataset})
    index_paths(paths, s, embedder=embedder)
    snapshot = Collection(s.collection_dir).open_snapshot()
    retriever = HybridRetriever(snapshot, embedder, s)
    answerer = ExtractiveAnswerer(embedder, CitationVerifier(embedder, s.verify_min_similarity), s)
    rows = []
    try:
        for q in questions:
            hits = retriever.search(q["question"], s.k).hits
            cands = answerer.rank(q["question"], hits, snapshot.article)
            answerable = not q.get("is_impossible", False) and q.get("kind") != "unanswerable"
            best_text = cands[0].span.text.casefold() if cands else ""
            rows.append(
                Row(
                    dataset=dataset,
                    qid=q["id"],
                    answerable=answerable,
                    best_dense=max((h.dense_score for h in hits if h.dense_score is not None), default=0.0),
                    best_support=cands[0].score if cands else 0.0,
                    gold_in_best=any(g.casefold() in best_text for g in q.get("answers", []) if g),
                )
            )
    finally:
        snapshot.close()
    return rows


def _quantiles(xs: list[float]) -> str:
    if not xs:
        return "-"
    qs = np.quantile(xs, [0.1, 0.25, 0.5, 0.75, 0.9])
    return " ".join(f"{v:.3f}" for v in qs) + f"  (n={len(xs)}, mean {statistics.fmean(xs):.3f})"


def _answers(r: Row, d: float, s: float) -> bool:
    return r.best_dense >= d and r.best_support >= s


def _seeds_guard(rows: list[Row], d: float, s: float) -> bool:
    """Every unanswerable seeds question refused and >= 90 % of the answerable ones answered."""
    seeds = [r for r in rows if r.dataset == "seeds"]
    ans = [r for r in seeds if r.answerable]
    una = [r for r in seeds if not r.answerable]
    return all(not _answers(r, d, s) for r in una) and sum(_answers(r, d, s) for r in ans) >= 0.9 * len(ans)


def balanced_accuracy(rows: list[Row], d: float, s: float) -> float:
    ans = [r for r in rows if r.answerable]
    una = [r for r in rows if not r.answerable]
    if not ans or not una:
        return float("nan")
    return (sum(_answers(r, d, s) for r in ans) / len(ans) + sum(not _answers(r, d, s) for r in una) / len(una)) / 2


def choose(rows: list[Row], margin_dense: float = 0.05, margin_support: float = 0.03) -> tuple[float, float, float]:
    """(min_dense, min_support, SQuAD balanced accuracy).

    Among thresholds that keep the seeds guard even when moved by +-margin (so a small drift in
    scores cannot flip a seeds question), take the best SQuAD 2.0 balanced accuracy; ties go to
    the highest min_dense (off-topic questions are refused earliest) then the lowest min_support.
    """
    squad = [r for r in rows if r.dataset == "squad2"]
    best: tuple[float, float, float] | None = None
    for d in np.round(np.arange(0.0, 0.601, 0.01), 3):
        for s in np.round(np.arange(0.3, 1.201, 0.01), 3):
            if not all(
                _seeds_guard(rows, d + dd, s + ds)
                for dd in (-margin_dense, 0.0, margin_dense)
                for ds in (-margin_support, 0.0, margin_support)
            ):
                continue
            bal = balanced_accuracy(squad, float(d), float(s))
            key = (round(bal, 6), float(d), -float(s))
            if best is None or key > (round(best[2], 6), best[0], -best[1]):
                best = (float(d), float(s), bal)
    if best is None:
        raise SystemExit("No thresholds satisfy the seeds guard; the answerer's scores need attention first.")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad-limit", type=int, default=None, help="Use only the first N SQuAD questions")
    parser.add_argument("--json", type=Path, default=None, help="Also write the per-question rows here")
    parser.add_argument("--rows", type=Path, default=None, help="Re-run only the choice on rows saved with --json")
    args = parser.parse_args()
    settings = Settings()
    rows: list[Row] = []
    if args.rows:
        rows = [Row(**r) for r in json.loads(args.rows.read_text())]
    else:
        embedder = make_encoder(settings, "document")
        with tempfile.TemporaryDirectory() as tmp:
            for name, limit in (("seeds", None), ("squad2", args.squad_limit)):
                got = measure(name, limit, embedder, settings, Path(tmp))
                rows += got
                print(f"{name}: {len(got)} questions, retrieval = HybridRetriever (k={settings.k})")
    print("quantiles 10/25/50/75/90 %")
    for ds in ("seeds", "squad2"):
        for label, flag in (("answerable", True), ("unanswerable", False)):
            sel = [r for r in rows if r.dataset == ds and r.answerable == flag]
            print(f"  {ds:7} {label:13} dense   {_quantiles([r.best_dense for r in sel])}")
            print(f"  {ds:7} {label:13} support {_quantiles([r.best_support for r in sel])}")
    d, s, bal = choose(rows)
    print(f"chosen: refusal_min_dense={d} refusal_min_support={s} (SQuAD 2.0 balanced accuracy {bal:.3f})")
    for ds in ("seeds", "squad2"):
        ans = [r for r in rows if r.dataset == ds and r.answerable]
        una = [r for r in rows if r.dataset == ds and not r.answerable]
        answered = [r for r in ans if _answers(r, d, s)]
        refused = [r for r in una if not _answers(r, d, s)]
        print(
            f"  {ds}: answerable answered {len(answered)}/{len(ans)}, unanswerable refused {len(refused)}/{len(una)}, "
            f"gold in lead sentence {sum(r.gold_in_best for r in ans)}/{len(ans)}"
        )
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in rows], indent=1))


if __name__ == "__main__":
    main()
