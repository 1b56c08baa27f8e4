"""Turn an adapter's EvalSet into files the product indexes, and map stored documents back to dataset ids.

The product indexes files, so each dataset's corpus is written as JSONL ({"_id", "title", "text"}
per line) under a stable path: the index is incremental and keyed on source path + content, so a
second run over the same corpus embeds nothing. The product's own document id (sha256 of source and
normalised text) is mapped back to the dataset's id by loading the written file with the product's
own loader: the same code the indexer ran, so the ids agree by construction.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from eval.adapters.base import DatasetError, EvalCorpus, EvalQuestion, EvalSet
from rag.files import atomic_write
from rag.ingest.discover import load_paths
from rag.models import SearchFilters

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class PreparedCorpus:
    """What to index and how to read results back."""

    paths: list[Path]  # handed to index_paths
    collection: str  # collection name under settings.index_dir
    ids_of: dict[str, tuple[str, ...]] = field(default_factory=dict)  # product doc_id -> dataset ids
    filters_of: dict[str, SearchFilters] = field(default_factory=dict)  # qid -> per-question filter
    notes: tuple[str, ...] = ()


def _write_if_changed(path: Path, text: str) -> None:
    """Atomic write, skipped when the content is already there (keeps the index's work at zero)."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text)


def corpus_jsonl(corpus: EvalCorpus) -> str:
    return "".join(
        json.dumps({"_id": d.doc_id, "title": d.title, "text": d.text}, ensure_ascii=False) + "\n"
        for d in corpus.documents
    )


def doc_id_map(paths: list[Path]) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """product doc_id -> dataset ids, by loading the files exactly as the indexer does.

    Two records with the same text (and title) become one product document; both dataset ids
    are kept so a ranking expands that document to every id it stands for.
    """
    loaded = load_paths(paths)
    ids: dict[str, list[str]] = {}
    for a in loaded.articles:
        if "id" in a.meta:
            ids.setdefault(a.doc_id, []).append(a.meta["id"])
    notes = [f"{p.source}: {p.message}" for p in loaded.problems]
    merged = sum(len(v) - 1 for v in ids.values())
    if merged:
        notes.append(f"{merged} record(s) duplicate another record's text and share its stored document")
    return {k: tuple(v) for k, v in ids.items()}, notes


def safe_name(text: str) -> str:
    return _SAFE.sub("_", text)


def prepare_corpus_file(evalset: EvalSet, cache: Path, collection: str) -> PreparedCorpus:
    """BEIR / SQuAD: one corpus.jsonl per dataset slice."""
    if evalset.corpus is None:
        raise DatasetError(f"{evalset.name} has no corpus to index")
    path = cache / collection / "corpus.jsonl"
    _write_if_changed(path, corpus_jsonl(evalset.corpus))
    ids, notes = doc_id_map([path])
    return PreparedCorpus([path], collection, ids, {}, tuple(notes))


def prepare_rgb(per_kind: dict[str, EvalSet], questions: tuple[EvalQuestion, ...], cache: Path,
                collection: str) -> PreparedCorpus:
    """RGB: each question's passages (of every kind asked for) in its own file q<id>.jsonl.

    A question is then asked with source_glob "*/q<id>.jsonl", so it sees only its own passages,
    as in RGB's protocol, while one collection (one embedding pass) serves the whole run.
    """
    folder = cache / collection / "passages"
    by_kind = {kind: {q.qid: q for q in s.questions} for kind, s in per_kind.items()}
    wanted = set()
    filters: dict[str, SearchFilters] = {}
    for q in questions:
        name = f"q{safe_name(q.qid)}.jsonl"
        wanted.add(name)
        lines = []
        for kind, qs in by_kind.items():
            for i, text in enumerate(qs[q.qid].passages):
                lines.append(json.dumps({"_id": f"{q.qid}:{kind}:{i}", "text": text, "kind": kind},
                                        ensure_ascii=False) + "\n")
        _write_if_changed(folder / name, "".join(lines))
        # The "/" stops q1.jsonl from matching q11.jsonl.
        filters[q.qid] = SearchFilters(source_glob=f"*/{name}")
    for stale in folder.glob("q*.jsonl"):
        if stale.name not in wanted:  # a previous run over a different slice: drop it from the index too
            stale.unlink()
    ids, notes = doc_id_map([folder])
    return PreparedCorpus([folder], collection, ids, filters, tuple(notes))
