"""RGB counterfactual robustness (shared/eval/rgb/en_fact.json).

The file is JSON Lines despite its suffix (a JSON array is accepted too). Each record: id,
query, answer, fakeanswer, positive, positive_wrong, negative. The counterfactual test gives
the model only `positive_wrong` (the true passages with the answer replaced by the fake one)
and checks whether its answer repeats the fake answer (eval.metrics.answer_contains).

RGB's answer format, as its own checker reads it: a string; or a list whose items must ALL
appear, each item a string or a list of alternatives (any one counts). Our EvalQuestion holds
alternatives only, so an answer with more than one required item is rejected with an error
rather than silently weakened (en_fact has none).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

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

PassageKind = Literal["positive_wrong", "positive", "negative"]
WHAT = "an RGB file (one JSON object per line: id, query, answer, fakeanswer, positive, positive_wrong, negative)"


def _alternatives(value: Any, key: str, where: str) -> tuple[str, ...]:
    """RGB answer value -> alternatives (any one counts)."""
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not value:
        raise DatasetError(f"{where}: {key!r} should be a string or a non-empty list, got {value!r}")
    if key == "fakeanswer" and all(isinstance(v, str) for v in value):
        return tuple(value)  # repeating any form of the fake answer counts as repeating it
    if len(value) > 1:
        raise DatasetError(
            f"{where}: {key!r} has {len(value)} items that must all appear (an RGB multi-part "
            "answer); this adapter supports one item with alternatives only"
        )
    item = value[0]
    if isinstance(item, str):
        return (item,)
    if isinstance(item, list) and item and all(isinstance(v, str) for v in item):
        return tuple(item)
    raise DatasetError(f"{where}: {key!r} item should be a string or a list of strings, got {item!r}")


def _records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8") as fh:
        head = fh.read(1)
        while head.isspace():
            head = fh.read(1)
    if head == "[":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}: not valid JSON ({exc.msg}); expected {WHAT}") from exc
        if not all(isinstance(r, dict) for r in data):
            raise DatasetError(f"{path}: expected a list of JSON objects ({WHAT})")
        return list(enumerate(data, start=1))
    return list(iter_jsonl(path, WHAT))


def load_rgb(path: str | Path, split: str = "en_fact", passages: PassageKind = "positive_wrong") -> EvalSet:
    """Read RGB; `path` is the file or the folder holding <split>.json.

    `passages` picks which passages a question carries: positive_wrong (the counterfactual
    test), positive (the control: same passages with the true answer) or negative (noise).
    """
    p = Path(path)
    if p.is_dir():
        p = p / f"{split}.json"
    require_file(p, WHAT)
    if passages not in ("positive_wrong", "positive", "negative"):
        raise DatasetError(f"passages must be positive_wrong, positive or negative, got {passages!r}")
    questions: list[EvalQuestion] = []
    for lineno, obj in _records(p):
        where = f"{p}:{lineno}"
        for key in ("answer", "fakeanswer"):
            if key not in obj:
                raise DatasetError(f"{where}: missing field {key!r} (fields present: {sorted(obj)})")
        answers = _alternatives(obj["answer"], "answer", where)
        fakes = _alternatives(obj["fakeanswer"], "fakeanswer", where)
        texts = string_list(obj, passages, where)
        if not texts:
            raise DatasetError(f"{where}: no {passages} passages to give the model")
        questions.append(
            EvalQuestion(
                qid=str(field_of(obj, "id", (str, int), where)),
                text=field_of(obj, "query", str, where),
                answers=answers,
                fake_answers=fakes,
                passages=texts,
                kind="counterfactual" if passages == "positive_wrong" else passages,
            )
        )
    if not questions:
        raise DatasetError(f"{p} holds no records: expected {WHAT}")
    result = tuple(questions)
    check_unique(result, p)
    return EvalSet(name="rgb", split=split, questions=result)
