"""Loader for .pptx (python-pptx): one Article per file, one part per slide ("slide 3").

A slide's text is its title, then every other text frame and table in shape order, then the
speaker notes (they often hold the talk's actual sentences). Title: the core property, else the
first slide's title, else the file name; date: the created (or modified) core property.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

from pptx import Presentation
from pptx.exc import PackageNotFoundError
from pptx.shapes.base import BaseShape

from rag.ingest.errors import LoadError
from rag.ingest.parts import PARTS_KEY, iso_date, join_parts
from rag.models import Article, LoadResult


def _shape_texts(shapes: object) -> Iterator[str]:
    for shape in shapes:  # type: ignore[attr-defined]
        shape: BaseShape
        if shape.shape_type is not None and getattr(shape, "shapes", None) is not None:  # a group
            yield from _shape_texts(shape.shapes)  # type: ignore[attr-defined]
        elif getattr(shape, "has_text_frame", False) and shape.text_frame.text.strip():  # type: ignore[attr-defined]
            yield shape.text_frame.text  # type: ignore[attr-defined]
        elif getattr(shape, "has_table", False):
            for row in shape.table.rows:  # type: ignore[attr-defined]
                cells = [c.text.strip() for c in row.cells]
                if any(cells):
                    yield " | ".join(cells)


def load(path: Path, source: str | None = None) -> LoadResult:
    path = Path(path)
    source = source or os.path.abspath(path)
    try:
        deck = Presentation(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as e:
        raise LoadError(f"{path} is not a readable PowerPoint .pptx file ({e or type(e).__name__}); "
                        "open and re-save it in PowerPoint or LibreOffice, or export it as PDF") from e
    parts: list[tuple[str, str]] = []
    first_title = ""
    for number, slide in enumerate(deck.slides, start=1):
        title_shape = slide.shapes.title
        title = title_shape.text_frame.text.strip() if title_shape is not None and title_shape.has_text_frame else ""
        first_title = first_title or title
        body = [t for t in _shape_texts(slide.shapes) if t.strip() != title]
        notes = slide.notes_slide.notes_text_frame.text if slide.has_notes_slide and \
            slide.notes_slide.notes_text_frame is not None else ""
        parts.append((f"slide {number}", "\n\n".join(x for x in (title, *body, notes) if x.strip())))
    text, index = join_parts(parts)
    if not text:
        raise LoadError(f"{path} has no text on any of its {len(deck.slides)} slide(s); nothing to index")
    props = deck.core_properties
    return LoadResult(articles=[Article(
        source=source, text=text, title=(props.title or "").strip() or first_title or path.stem,
        date=iso_date(props.created) or iso_date(props.modified),
        meta={"format": "pptx", "slides": str(len(deck.slides)), PARTS_KEY: index})])
