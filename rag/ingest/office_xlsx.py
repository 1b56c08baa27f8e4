"""Loader for .xlsx (openpyxl): one Article per workbook, one part per sheet ("sheet 'Budget'").

Each non-empty row becomes one line, cells joined by tabs, values as Excel last computed them
(formulas are not re-evaluated). Very large sheets are cut at MAX_CELLS and the cut reported, so
one data dump cannot stall an index run. Title: the core property, else the file name; date: the
created (or modified) core property.
"""

from __future__ import annotations

import os
import zipfile
from datetime import date, datetime
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from rag.ingest.errors import LoadError
from rag.ingest.parts import PARTS_KEY, iso_date, join_parts
from rag.models import Article, LoadProblem, LoadResult

MAX_CELLS = 200_000  # ~ a few MB of text: beyond this a spreadsheet is data, not a document to cite


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def load(path: Path, source: str | None = None) -> LoadResult:
    path = Path(path)
    source = source or os.path.abspath(path)
    try:
        book = load_workbook(str(path), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise LoadError(f"{path} is not a readable Excel .xlsx file ({e or type(e).__name__}); "
                        "open and re-save it in Excel or LibreOffice, or export the sheets as CSV text") from e
    result = LoadResult()
    parts: list[tuple[str, str]] = []
    cells = 0
    try:
        for sheet in book.worksheets:
            lines: list[str] = []
            for row in sheet.iter_rows(values_only=True):
                values = [_cell(v) for v in row]
                cells += len(values)
                if cells > MAX_CELLS:
                    result.problems.append(LoadProblem(source, f"sheet {sheet.title!r}: cut after {MAX_CELLS} cells; "
                                                               "split the workbook to index the rest"))
                    break
                while values and not values[-1]:
                    values.pop()
                if values:
                    lines.append(" | ".join(values))
            parts.append((f"sheet {sheet.title!r}", "\n".join(lines)))
            if cells > MAX_CELLS:
                break
        props = book.properties
    finally:
        book.close()
    text, index = join_parts(parts)
    if not text:
        raise LoadError(f"{path} has no values in any sheet; nothing to index")
    result.articles.append(Article(
        source=source, text=text, title=(props.title or "").strip() or path.stem,
        date=iso_date(props.created) or iso_date(props.modified),
        meta={"format": "xlsx", "sheets": str(len(parts)), PARTS_KEY: index}))
    return result
