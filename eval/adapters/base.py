"""The common record set every dataset adapter returns.

Frozen dataclasses, standard library only: the peer benchmarks import the adapters from
virtualenvs that do not have our dependencies (pydantic included).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class DatasetError(ValueError):
    """A dataset path or file is not what its adapter expects; the message says what is."""


@dataclass(frozen=True)
class EvalDocument:
    """One document of an evaluation corpus (a BEIR abstract, a SQuAD paragraph)."""

    doc_id: str
    text: str
    title: str = ""


@dataclass(frozen=True)
class EvalCorpus:
    """The documents a retriever indexes for one dataset."""

    name: str
    documents: tuple[EvalDocument, ...]

    def by_id(self) -> dict[str, EvalDocument]:
        return {d.doc_id: d for d in self.documents}


@dataclass(frozen=True)
class EvalQuestion:
    """One evaluation question, whatever the dataset.

    answers: any one of them counts as correct (empty when unanswerable).
    evidence: verbatim text a retrieved passage must contain (seed set).
    relevant: {doc id: graded relevance > 0} into the dataset's EvalCorpus (BEIR, SQuAD).
    fake_answers / passages: RGB counterfactual test; the model reads `passages` (planted
    false facts) and fails if its answer repeats a fake answer.
    """

    qid: str
    text: str
    answers: tuple[str, ...] = ()
    is_unanswerable: bool = False
    evidence: tuple[str, ...] = ()
    relevant: Mapping[str, int] = field(default_factory=dict)
    kind: str = ""
    fake_answers: tuple[str, ...] = ()
    passages: tuple[str, ...] = ()
    parts: tuple[tuple[str, ...], ...] = ()  # list/two-part questions: each part's alternatives; all must appear
    lang: str = ""  # the question's language (zh, en) where a set mixes them: figures are reported per language


@dataclass(frozen=True)
class EvalSet:
    """What an adapter returns: the questions and, where the dataset has one, its corpus.

    corpus is None when the questions run over a collection indexed elsewhere (the seed
    questions run over the bundled sample corpus) or carry their own passages (RGB).
    """

    name: str
    split: str
    questions: tuple[EvalQuestion, ...]
    corpus: EvalCorpus | None = None


def require_file(path: Path, what: str) -> Path:
    """The path as a readable file, or a DatasetError naming what was expected there."""
    if not path.exists():
        raise DatasetError(f"{what} not found at {path}: pass the path of {what}")
    if not path.is_file():
        raise DatasetError(f"{path} is not a file: expected {what}")
    return path


def iter_jsonl(path: Path, what: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; a bad line raises with its number."""
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(
                    f"{path}:{lineno}: not valid JSON ({exc.msg}); expected {what}, "
                    "one JSON object per line"
                ) from exc
            if not isinstance(obj, dict):
                raise DatasetError(f"{path}:{lineno}: expected a JSON object ({what})")
            yield lineno, obj


def field_of(
    obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str
) -> Any:
    """obj[key] checked against `kind`, or a DatasetError naming the file, line and field."""
    if key not in obj:
        raise DatasetError(f"{where}: missing field {key!r} (fields present: {sorted(obj)})")
    value = obj[key]
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise DatasetError(f"{where}: field {key!r} should be {names}, got {type(value).__name__}")
    return value


def string_list(obj: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    """A field that must be a list of strings."""
    value = field_of(obj, key, list, where)
    if not all(isinstance(v, str) for v in value):
        raise DatasetError(f"{where}: field {key!r} should be a list of strings")
    return tuple(value)


def check_unique(questions: tuple[EvalQuestion, ...], path: Path) -> None:
    seen: set[str] = set()
    for q in questions:
        if q.qid in seen:
            raise DatasetError(f"{path}: question id {q.qid!r} appears twice; ids must be unique")
        seen.add(q.qid)
