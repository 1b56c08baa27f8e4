"""Write retrieval sets in BEIR layout (corpus.jsonl, queries.jsonl, qrels/<split>.tsv).

The peer scripts and `rag eval --dataset beir` both read BEIR folders, so converting a dataset
once lets every system be scored on it by the same adapter and the same metrics.

    python -m eval.bench.beir_convert squad2 ../shared/eval/squad2 /tmp/squad2-beir
SQuAD 2.0: the 411 contexts are the corpus; each answerable question is a query whose only
relevant document is its context (split "test"); unanswerable questions are left out (no target).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from eval.adapters import load_squad2


def write_beir(dest: Path, corpus: list[dict[str, str]], queries: list[dict[str, str]],
               qrels: list[tuple[str, str]], split: str) -> Path:
    (dest / "qrels").mkdir(parents=True, exist_ok=True)
    with (dest / "corpus.jsonl").open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(d, ensure_ascii=False) + "\n" for d in corpus)
    with (dest / "queries.jsonl").open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(q, ensure_ascii=False) + "\n" for q in queries)
    with (dest / "qrels" / f"{split}.tsv").open("w", encoding="utf-8") as fh:
        fh.write("query-id\tcorpus-id\tscore\n")
        fh.writelines(f"{q}\t{d}\t1\n" for q, d in qrels)
    return dest


def squad2_to_beir(src: Path, dest: Path, contexts: int | None = None, split: str = "test") -> Path:
    """SQuAD 2.0 slice -> BEIR folder; `contexts` keeps the first N paragraphs and their questions."""
    evalset = load_squad2(src)
    assert evalset.corpus is not None  # the SQuAD adapter always returns its contexts
    docs = evalset.corpus.documents[:contexts]
    keep = {d.doc_id for d in docs}
    questions = [q for q in evalset.questions if q.relevant and set(q.relevant) <= keep]
    return write_beir(
        dest,
        [{"_id": d.doc_id, "title": d.title, "text": d.text} for d in docs],
        [{"_id": q.qid, "text": q.text} for q in questions],
        [(q.qid, d) for q in questions for d in q.relevant],
        split,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", choices=["squad2"])
    ap.add_argument("source", type=Path)
    ap.add_argument("dest", type=Path)
    ap.add_argument("--contexts", type=int, default=None, help="keep only the first N paragraphs")
    a = ap.parse_args()
    out = squad2_to_beir(a.source, a.dest, a.contexts)
    n_docs = sum(1 for _ in (out / "corpus.jsonl").open())
    n_q = sum(1 for _ in (out / "queries.jsonl").open())
    print(f"{out}: {n_docs} documents, {n_q} queries, split 'test'")


if __name__ == "__main__":
    main()
