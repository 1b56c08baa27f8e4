"""Write a small known-item BEIR folder for smoke-testing the peer scripts (not a benchmark).

The shared SciFact copy pairs qrels/train.tsv with the 300 test queries (no query in both), so
no slice of it can be scored. This takes the first N documents of a BEIR corpus and makes one
query per document from its title (qrels: that document, grade 1), split "smoke". The figures
it gives only show the pipeline runs end to end; title queries are far easier than real ones.

    python eval/bench/peers/known_item_set.py ../shared/eval/scifact /tmp/scifact-smoke --docs 200
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", type=Path, help="BEIR folder with corpus.jsonl")
    ap.add_argument("dest", type=Path, help="folder to write (created; files replaced)")
    ap.add_argument("--docs", type=int, default=200)
    ap.add_argument("--queries", type=int, default=50, help="one query per document, from its title")
    a = ap.parse_args()
    src = a.source / "corpus.jsonl"
    if not src.is_file():
        ap.error(f"{src} not found: pass a BEIR folder holding corpus.jsonl")
    rows = []
    with src.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rows.append(json.loads(line))
            if len(rows) >= a.docs:
                break
    (a.dest / "qrels").mkdir(parents=True, exist_ok=True)
    with (a.dest / "corpus.jsonl").open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")
    titled = [r for r in rows if r.get("title")][: a.queries]
    with (a.dest / "queries.jsonl").open("w", encoding="utf-8") as fh:
        for i, r in enumerate(titled):
            fh.write(json.dumps({"_id": f"k{i}", "text": r["title"]}) + "\n")
    with (a.dest / "qrels" / "smoke.tsv").open("w", encoding="utf-8") as fh:
        fh.write("query-id\tcorpus-id\tscore\n")
        for i, r in enumerate(titled):
            fh.write(f"k{i}\t{r['_id']}\t1\n")
    print(f"{a.dest}: {len(rows)} documents, {len(titled)} title queries, split 'smoke'")


if __name__ == "__main__":
    main()
