"""Loader for .jsonl: one Article per record (BEIR corpus.jsonl, SQuAD contexts, exports).

Contract as in text.py: `load(path, source=None) -> LoadResult`. A bad line (invalid JSON, not
an object, no text) becomes a LoadProblem naming its line number and the rest of the file still
loads. Every record keeps `source` = the file, `meta["id"]` = its `id`/`_id`, `meta["line"]` and
`span` = the character span of its line in the decoded file. Problems carry the file path as
their source (the indexer keys "failed to load, keep the old documents" on it) and the line
number in the message.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from rag.ingest.dates import parse_date
from rag.ingest.decode import read_text
from rag.ingest.limits import DEFAULT_LIMITS, LoadLimits, json_depth, too_deep
from rag.ingest.normalize import normalize_text
from rag.models import Article, LoadProblem, LoadResult

TEXT_FIELDS = ("text", "content", "body")
ID_FIELDS = ("id", "_id")
_RESERVED = {*TEXT_FIELDS, *ID_FIELDS, "title", "date"}


def _scalar(v: Any) -> str | None:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (str, int, float)):
        return str(v)
    return None  # nested values and null are not metadata we can filter on


def _record(obj: dict[str, Any], source: str, line_no: int, span: tuple[int, int]) -> Article | str:
    """The Article, or a message saying what is wrong with the record."""
    text_value = next((obj[f] for f in TEXT_FIELDS if isinstance(obj.get(f), str) and obj[f].strip()), None)
    if text_value is None:
        return f"has no non-empty text field (expected one of {', '.join(TEXT_FIELDS)}); add one or remove the line"
    meta = {"format": "jsonl", "line": str(line_no)}
    for key in ID_FIELDS:
        value = _scalar(obj.get(key))
        if value is not None:
            meta["id"] = value
            break
    title = normalize_text(obj["title"]) if isinstance(obj.get("title"), str) else ""
    date = None
    if obj.get("date") is not None:
        raw_date = str(obj["date"])
        date = parse_date(raw_date)
        if date is None:
            meta["date_raw"] = raw_date  # kept, but not usable for date filters
    for key, value in obj.items():
        if key not in _RESERVED and key not in meta:
            s = _scalar(value)
            if s is not None:
                meta[key] = s
    return Article(source=source, text=normalize_text(text_value), title=title, date=date, span=span, meta=meta)


def load(path: Path, source: str | None = None, limits: LoadLimits = DEFAULT_LIMITS) -> LoadResult:
    path = Path(path)
    source = source or os.path.abspath(path)
    deadline = limits.deadline(path)
    raw, _encoding = read_text(path)
    result = LoadResult()
    pos = 0
    records = 0
    for line_no, piece in enumerate(raw.splitlines(keepends=True), start=1):
        line = piece.rstrip("\r\n")
        span = (pos, pos + len(line))
        pos += len(piece)
        if not line.strip():
            continue
        deadline.check(f"line {line_no}")
        if records >= limits.max_records:
            result.problems.append(LoadProblem(
                source, f"has more than {limits.max_records} records (RAG_INGEST_MAX_RECORDS): line {line_no} and "
                "the lines after it were skipped; split the file"))
            break
        records += 1
        # json.loads recurses once per nesting level: a line of 100k nested arrays raised
        # RecursionError and stopped the whole run. Count the depth first (linear, no recursion).
        if json_depth(line, limits.max_depth) > limits.max_depth:
            result.problems.append(LoadProblem(source, f"line {line_no}: {too_deep(path.name, 'JSON', limits.max_depth)}"))
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            result.problems.append(LoadProblem(source, f"line {line_no} is not valid JSON ({e.msg}); fix or remove it"))
            continue
        except RecursionError:
            result.problems.append(LoadProblem(source, f"line {line_no} is nested too deeply to parse; skipped"))
            continue
        if not isinstance(obj, dict):
            result.problems.append(
                LoadProblem(source, f"line {line_no} is a JSON {type(obj).__name__}, not an object; expected {{\"text\": ...}}")
            )
            continue
        built = _record(obj, source, line_no, span)
        if isinstance(built, str):
            result.problems.append(LoadProblem(source, f"line {line_no} {built}"))
        else:
            result.articles.append(built)
    return result
