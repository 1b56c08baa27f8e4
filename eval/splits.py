"""Draw query-id split files: tune on one part of a qrels split, report on the other.

The file format (one query id per line, `# qrels: <name>`) is eval/adapters/split_file.py's; `rag eval
--dataset beir --split FILE` scores only those queries.

The committed SciFact parts (eval/data/scifact_tune.txt, eval/data/scifact_report.txt) were
made once by `python -m eval.splits ../shared/eval/scifact` : the 809 train queries shuffled
by query id with a fixed seed, the first TUNE_SIZE tune, the rest report. Every retrieval
lever is chosen on the tuning part only; figures are quoted on the report part.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterable
from pathlib import Path

from eval.adapters.beir import load_beir
from eval.adapters.split_file import write_split_file

SPLIT_SEED = 12  # the number: fixed once, never re-drawn
TUNE_SIZE = 600  # of SciFact's 809 train queries; the remaining 209 are the report part
DATA = Path(__file__).resolve().parent / "data"


def _sorted_ids(ids: Iterable[str]) -> list[str]:
    return sorted(ids, key=lambda q: (not q.isdigit(), int(q) if q.isdigit() else 0, q))


def split_ids(qids: Iterable[str], tune_size: int, seed: int = SPLIT_SEED) -> tuple[list[str], list[str]]:
    """Shuffle the ids (sorted first, so input order does not matter) and cut at tune_size."""
    ordered = _sorted_ids(set(qids))
    if not 0 < tune_size < len(ordered):
        raise ValueError(f"tune_size must be between 1 and {len(ordered) - 1}, got {tune_size}")
    random.Random(seed).shuffle(ordered)
    return _sorted_ids(ordered[:tune_size]), _sorted_ids(ordered[tune_size:])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Split a BEIR qrels split into tune / report query-id files.")
    ap.add_argument("path", type=Path, help="BEIR folder (e.g. ../shared/eval/scifact)")
    ap.add_argument("--qrels", default="train")
    ap.add_argument("--tune-size", type=int, default=TUNE_SIZE)
    ap.add_argument("--seed", type=int, default=SPLIT_SEED)
    ap.add_argument("--out", type=Path, default=DATA)
    args = ap.parse_args(argv)
    evalset = load_beir(args.path, args.qrels)
    tune, report = split_ids((q.qid for q in evalset.questions), args.tune_size, args.seed)
    name = evalset.name
    what = f"{name} {args.qrels} queries, split by eval.splits (seed {args.seed}):"
    write_split_file(args.out / f"{name}_tune.txt", tune, args.qrels, f"{what} tuning part, {len(tune)} ids")
    write_split_file(args.out / f"{name}_report.txt", report, args.qrels, f"{what} report part, {len(report)} ids")
    print(f"{len(tune)} tune, {len(report)} report -> {args.out}")


if __name__ == "__main__":
    main()
