"""Documents made of parts (slides, sheets, sections): one text, and where each part starts in it.

Office files have no meaningful raw character offsets (they are zipped XML), so an Office loader
extracts each part's text, normalises it, and joins the parts with a blank line. The offsets of
the parts in that joined text are kept in `Article.meta["parts"]` (JSON: [[start, label], ...]);
`part_at(article, offset)` names the part a citation's quote starts in ("slide 3", "sheet
'Budget'"), and the quote itself is exactly `article.text[start:end]` like every other citation.
"""

from __future__ import annotations

import json
from datetime import datetime

from rag.ingest.normalize import normalize_text
from rag.models import Article

PARTS_KEY = "parts"
SEPARATOR = "\n\n"


def join_parts(parts: list[tuple[str, str]]) -> tuple[str, str]:
    """(text, meta value) from (label, raw text) pairs; empty parts are left out."""
    pieces: list[str] = []
    index: list[tuple[int, str]] = []
    offset = 0
    for label, raw in parts:
        text = normalize_text(raw)
        if not text:
            continue
        if pieces:
            offset += len(SEPARATOR)
        index.append((offset, label))
        pieces.append(text)
        offset += len(text)
    return SEPARATOR.join(pieces), json.dumps(index, ensure_ascii=False)


def part_at(article: Article, offset: int) -> str | None:
    """The label of the part holding `offset` in article.text, or None for single-part formats."""
    raw = article.meta.get(PARTS_KEY)
    if not raw:
        return None
    label = None
    for start, name in json.loads(raw):
        if start > offset:
            break
        label = name
    return label


def iso_date(value: datetime | None) -> str | None:
    """An Office core-properties timestamp as YYYY-MM-DD (None when unset)."""
    return value.date().isoformat() if isinstance(value, datetime) else None
