"""Loader for .docx (python-docx): one Article per file; parts are the sections under each heading.

Paragraphs and tables are read in body order (a table row becomes one line, cells joined by tabs).
Word files carry no page numbers (pagination happens when rendering), so a citation names its
section: the nearest heading above the quote. Title: the core property, else the first Title or
Heading paragraph, else the file name; date: the created (or modified) core property.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph

from rag.ingest.errors import LoadError
from rag.ingest.parts import PARTS_KEY, iso_date, join_parts
from rag.models import Article, LoadResult

FIRST_PART = "start"  # label of the text before the first heading


def _blocks(document: docx.document.Document) -> list[Paragraph | Table]:
    return list(document.iter_inner_content())


def _heading(p: Paragraph) -> bool:
    name = (p.style.name if p.style is not None else "") or ""
    return name.startswith("Heading") or name == "Title"


def load(path: Path, source: str | None = None) -> LoadResult:
    path = Path(path)
    source = source or os.path.abspath(path)
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as e:
        raise LoadError(f"{path} is not a readable Word .docx file ({e or type(e).__name__}); "
                        "open and re-save it in Word or LibreOffice, or export it as PDF") from e
    parts: list[tuple[str, list[str]]] = [(FIRST_PART, [])]
    first_heading = ""
    for block in _blocks(document):
        if isinstance(block, Paragraph):
            text = block.text.strip()
            if not text:
                continue
            if _heading(block):
                first_heading = first_heading or text
                parts.append((f"section {text[:80]!r}", [text]))
                continue
            parts[-1][1].append(text)
        else:
            for row in block.rows:
                cells = [c.text.strip() for c in row.cells]
                if any(cells):
                    parts[-1][1].append(" | ".join(cells))
    text, index = join_parts([(label, "\n\n".join(lines)) for label, lines in parts])
    if not text:
        raise LoadError(f"{path} has no text (an empty document or only images); nothing to index")
    props = document.core_properties
    title = (props.title or "").strip() or first_heading or path.stem
    date = iso_date(props.created) or iso_date(props.modified)
    return LoadResult(articles=[Article(source=source, text=text, title=title, date=date,
                                        meta={"format": "docx", PARTS_KEY: index})])
