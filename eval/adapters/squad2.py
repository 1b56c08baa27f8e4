"""SQuAD 2.0 dev slice: contexts.jsonl (id, text) is the corpus, questions_<split>.jsonl the questions.

About half the questions are unanswerable (is_impossible); the right output for those is a
refusal. Their `relevant` is empty: the paragraph they were written against does not hold
the answer, so it is no retrieval target.
"""

from __future__ import annotations

from pathlib import Path

from eval.adapters.base import (
    DatasetError,
    EvalCorpus,
    EvalDocument,
    EvalQuestion,
    EvalSet,
    check_unique,
    field_of,
    iter_jsonl,
    require_file,
    string_list,
)

LAYOUT = "a SQuAD 2.0 folder holding contexts.jsonl (id, text) and questions_<split>.jsonl"
Q_WHAT = "SQuAD questions (id, question, answers, is_impossible, context_id per line)"


def load_squad2(path: str | Path, split: str = "dev") -> EvalSet:
    """Read the SQuAD 2.0 folder; `split` picks questions_<split>.jsonl."""
    root = Path(path)
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder: expected {LAYOUT}")
    cpath = require_file(root / "contexts.jsonl", "contexts.jsonl (id, text per line)")
    docs: list[EvalDocument] = []
    for lineno, obj in iter_jsonl(cpath, "SQuAD contexts (id, text per line)"):
        where = f"{cpath}:{lineno}"
        docs.append(EvalDocument(str(field_of(obj, "id", str, where)), field_of(obj, "text", str, where)))
    if not docs:
        raise DatasetError(f"{cpath} holds no paragraphs: expected {LAYOUT}")
    doc_ids = {d.doc_id for d in docs}
    qpath = require_file(root / f"questions_{split}.jsonl", f"questions_{split}.jsonl ({LAYOUT})")
    questions: list[EvalQuestion] = []
    for lineno, obj in iter_jsonl(qpath, Q_WHAT):
        where = f"{qpath}:{lineno}"
        impossible = field_of(obj, "is_impossible", bool, where)
        context_id = field_of(obj, "context_id", str, where)
        if context_id not in doc_ids:
            raise DatasetError(f"{where}: context_id {context_id!r} is not in {cpath}")
        # SQuAD writes "no answer" as [""]; keep only real strings.
        answers = tuple(a for a in string_list(obj, "answers", where) if a.strip())
        if not impossible and not answers:
            raise DatasetError(f"{where}: an answerable question needs a non-empty answer")
        questions.append(
            EvalQuestion(
                qid=str(field_of(obj, "id", str, where)),
                text=field_of(obj, "question", str, where).strip(),
                answers=() if impossible else answers,
                is_unanswerable=impossible,
                relevant={} if impossible else {context_id: 1},
                kind="unanswerable" if impossible else "fact",
            )
        )
    if not questions:
        raise DatasetError(f"{qpath} holds no questions: expected {Q_WHAT}")
    result = tuple(questions)
    check_unique(result, qpath)
    return EvalSet(
        name="squad2",
        split=split,
        questions=result,
        corpus=EvalCorpus(name="squad2", documents=tuple(docs)),
    )
