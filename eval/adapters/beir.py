"""BEIR-layout datasets (SciFact here): corpus.jsonl, queries.jsonl, qrels/<split>.tsv.

Only queries with at least one relevant qrels row (score > 0) in the chosen split are kept,
as BEIR's GenericDataLoader does. `corpus_limit` keeps the first N documents (for smoke
tests); qrels then shrink to those documents and queries left with no relevant document are
dropped, so figures on a slice are not comparable with published ones.
"""

from __future__ import annotations

import os
from pathlib import Path

from eval.adapters.base import (
    DatasetError,
    EvalCorpus,
    EvalDocument,
    EvalQuestion,
    EvalSet,
    field_of,
    iter_jsonl,
    require_file,
)
from eval.adapters.split_file import QRELS_MARK, read_split_file

# The shared SciFact copy holds train qrels only (test qrels are held back for independent checks).
DEFAULT_BEIR_SPLIT = "train"
LAYOUT = "a BEIR folder holding corpus.jsonl, queries.jsonl and qrels/<split>.tsv"


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """{query id: {doc id: grade}} from a BEIR qrels TSV (header query-id, corpus-id, score)."""
    require_file(path, "a qrels file (TSV: query-id, corpus-id, score)")
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            cols = line.rstrip("\n").split("\t")
            if lineno == 1 and cols[0] == "query-id":
                continue
            if not line.strip():
                continue
            if len(cols) != 3:
                raise DatasetError(
                    f"{path}:{lineno}: expected 3 tab-separated columns "
                    f"(query-id, corpus-id, score), got {len(cols)}"
                )
            qid, doc_id, score = cols
            try:
                grade = int(score)
            except ValueError as exc:
                raise DatasetError(f"{path}:{lineno}: score {score!r} is not an integer") from exc
            qrels.setdefault(qid, {})[doc_id] = grade
    return qrels


def read_corpus(path: Path, limit: int | None = None) -> EvalCorpus:
    what = "a BEIR corpus.jsonl (_id, title, text per line)"
    require_file(path, what)
    docs: list[EvalDocument] = []
    seen: set[str] = set()
    for lineno, obj in iter_jsonl(path, what):
        if limit is not None and len(docs) >= limit:
            break
        where = f"{path}:{lineno}"
        doc_id = str(field_of(obj, "_id", (str, int), where))
        if doc_id in seen:
            raise DatasetError(f"{where}: document id {doc_id!r} appears twice")
        seen.add(doc_id)
        title = obj.get("title") or ""
        if not isinstance(title, str):
            raise DatasetError(f"{where}: field 'title' should be a string")
        docs.append(EvalDocument(doc_id, field_of(obj, "text", str, where), title))
    if not docs:
        raise DatasetError(f"{path} holds no documents: expected {what}")
    return EvalCorpus(name=path.parent.name, documents=tuple(docs))


def is_split_file(split: str) -> bool:
    """A `--split` value naming a file of query ids (has a path separator or ends in .txt)."""
    return "/" in split or os.sep in split or split.endswith(".txt")


def _resolve_split(root: Path, split: str) -> tuple[str, list[str] | None]:
    """(qrels split name, the query ids a split file keeps or None for the whole qrels split)."""
    if not is_split_file(split):
        return split, None
    ids, qrels = read_split_file(Path(split))
    if qrels is None:
        raise DatasetError(f"split file {split} does not say which qrels its ids come from: "
                           f"add a line '{QRELS_MARK} train' (or the qrels/<name>.tsv it belongs to)")
    return qrels, ids


def load_beir(path: str | Path, split: str = DEFAULT_BEIR_SPLIT, corpus_limit: int | None = None) -> EvalSet:
    """Read a BEIR dataset folder; questions are the queries with relevant qrels in `split`.

    `split` is a qrels split name (qrels/<split>.tsv) or a file of query ids (eval/splits.py):
    then only those ids are kept, in the file's order, and each must have relevant qrels.
    """
    root = Path(path)
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder: expected {LAYOUT}")
    if corpus_limit is not None and corpus_limit < 1:
        raise DatasetError(f"corpus_limit must be >= 1, got {corpus_limit}")
    qrels_split, wanted = _resolve_split(root, split)
    qrels_path = root / "qrels" / f"{qrels_split}.tsv"
    if not qrels_path.is_file():
        have = sorted(p.stem for p in (root / "qrels").glob("*.tsv"))
        raise DatasetError(
            f"no qrels for split {qrels_split!r} at {qrels_path}: expected {LAYOUT}; "
            f"splits present: {', '.join(have) or 'none'}"
        )
    qrels = read_qrels(qrels_path)
    corpus = read_corpus(root / "corpus.jsonl", corpus_limit)
    doc_ids = {d.doc_id for d in corpus.documents}
    if corpus_limit is None:
        missing = sorted({d for rel in qrels.values() for d in rel} - doc_ids)
        if missing:
            raise DatasetError(
                f"{qrels_path} names {len(missing)} document(s) absent from corpus.jsonl "
                f"(e.g. {missing[:3]}): the qrels and corpus do not belong together"
            )
    texts: dict[str, str] = {}
    qpath = require_file(root / "queries.jsonl", "a BEIR queries.jsonl (_id, text per line)")
    for lineno, obj in iter_jsonl(qpath, "a BEIR queries.jsonl (_id, text per line)"):
        where = f"{qpath}:{lineno}"
        texts[str(field_of(obj, "_id", (str, int), where))] = field_of(obj, "text", str, where)
    if wanted is not None:
        unknown = [q for q in wanted if not any(g > 0 for g in qrels.get(q, {}).values()) or q not in texts]
        if unknown:
            raise DatasetError(
                f"split file {split} names {len(unknown)} query id(s) without relevant qrels in {qrels_path} "
                f"or without text in queries.jsonl (e.g. {unknown[:3]}): the file belongs to another dataset"
            )
        qrels = {q: qrels[q] for q in wanted if q in qrels}
    questions: list[EvalQuestion] = []
    for qid, rel in qrels.items():
        relevant = {d: g for d, g in rel.items() if g > 0 and d in doc_ids}
        if relevant and qid in texts:
            questions.append(EvalQuestion(qid=qid, text=texts[qid], relevant=relevant))
    if not questions:
        overlap = len(set(qrels) & set(texts))
        raise DatasetError(
            f"no query has relevant qrels in split {split!r}: {qrels_path} names {len(qrels)} "
            f"queries, queries.jsonl holds {len(texts)}, {overlap} in both"
            + (f", within the first {corpus_limit} documents" if corpus_limit else "")
            + ". Use the qrels split that matches queries.jsonl."
        )
    return EvalSet(name=corpus.name, split=split, questions=tuple(questions), corpus=corpus)
