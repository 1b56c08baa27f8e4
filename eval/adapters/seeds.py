"""Seed questions over the bundled sample corpus (shared/eval/seeds_dev.jsonl).

Each line: id, kind (fact | multi | unanswerable), question, answers, evidence; optionally `split` (the
file is read one split at a time), `parts` and `lang` (zh | en: a set that mixes languages, such as
eval/data/zh_news_questions.jsonl, is reported per language and also scored by whether a retrieved
passage holds a gold answer, eval.metrics.answer_hit_scores). Relevance is
textual: a retrieved passage is relevant when it contains an evidence string after NFKC and
whitespace folding (eval.metrics.evidence_scores). The corpus is the product's sample
collection, indexed by the pipeline, so the EvalSet carries no corpus.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eval.adapters.base import (
    DatasetError,
    EvalQuestion,
    EvalSet,
    check_unique,
    field_of,
    iter_jsonl,
    require_file,
    string_list,
)

KINDS = ("fact", "multi", "unanswerable")
LANGS = ("zh", "en")
WHAT = "the seed question file (seeds_dev.jsonl: id, kind, question, answers, evidence)"


def load_seeds(path: str | Path, split: str = "dev") -> EvalSet:
    """Read the seed questions. `path` is the .jsonl file or the folder holding seeds_<split>.jsonl."""
    p = Path(path)
    if p.is_dir():
        p = p / f"seeds_{split}.jsonl"
    require_file(p, WHAT)
    questions: list[EvalQuestion] = []
    for lineno, obj in iter_jsonl(p, WHAT):
        where = f"{p}:{lineno}"
        # A file with a per-question `split` (eval/data/sample_questions.jsonl: train | test) is
        # read one split at a time; "all" reads every line.
        if "split" in obj and split != "all" and obj["split"] != split:
            continue
        kind = field_of(obj, "kind", str, where)
        if kind not in KINDS:
            raise DatasetError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
        answers = string_list(obj, "answers", where)
        evidence = string_list(obj, "evidence", where)
        unanswerable = kind == "unanswerable"
        if unanswerable and answers:
            raise DatasetError(f"{where}: an unanswerable question must have no answers")
        if not unanswerable and not answers:
            raise DatasetError(f"{where}: a {kind} question needs at least one answer")
        questions.append(
            EvalQuestion(
                qid=str(field_of(obj, "id", (str, int), where)),
                text=field_of(obj, "question", str, where),
                answers=answers,
                is_unanswerable=unanswerable,
                evidence=evidence,
                kind=kind,
                parts=tuple(tuple(str(x) for x in part) for part in obj.get("parts", ())),
                lang=_lang(obj, where),
            )
        )
    if not questions:
        raise DatasetError(f"{p} holds no questions of split {split!r}: expected {WHAT} "
                           "(a file with a `split` field: pass --split train, test or all)")
    result = tuple(questions)
    check_unique(result, p)
    return EvalSet(name="seeds", split=split, questions=result)


def _lang(obj: Mapping[str, Any], where: str) -> str:
    if "lang" not in obj:
        return ""
    lang = field_of(obj, "lang", str, where)
    if lang not in LANGS:
        raise DatasetError(f"{where}: lang {lang!r} is not one of {', '.join(LANGS)}")
    return lang
