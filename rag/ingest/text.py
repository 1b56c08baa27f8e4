"""Loader for .txt / .md / .markdown: press-release dumps are split, anything else is one Article.

Loader contract (same for every format module): `load(path, source=None, limits=...) -> LoadResult`
(`limits`: rag/ingest/limits.py; discover passes it to every loader that takes it).
`articles` holds what was read, `problems` what was skipped inside the file (a bad JSONL line, an
unreadable PDF page); a file that cannot be read at all raises LoadError. `files_seen` is left
to discover.load_paths. `source` defaults to os.path.abspath(path).
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

from rag.ingest.decode import read_text
from rag.ingest.limits import DEFAULT_LIMITS, LoadLimits
from rag.ingest.news import looks_like_press_releases, split_press_releases
from rag.ingest.normalize import normalize_text
from rag.models import Article, LoadResult

MAX_TITLE_LINE = 120  # a first line longer than this is a paragraph, not a title
_ATX = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
_SETEXT_RULE = re.compile(r"^\s{0,3}(=+|-+)\s*$")


def _title_and_body(raw: str, stem: str, markdown: bool) -> tuple[str, str]:
    """(title, body text). The title line is left out of the body so chunks do not repeat it."""
    lines = raw.splitlines()
    nonblank = [i for i, ln in enumerate(lines) if ln.strip()]
    if markdown:
        for i in nonblank:
            m = _ATX.match(lines[i])
            if m:
                title = normalize_text(m.group(1))
                if i == nonblank[0]:  # a leading heading is the title; later ones stay in the text
                    return title, normalize_text("\n".join(lines[i + 1 :]))
                return title, normalize_text(raw)
            nxt = i + 1
            if nxt < len(lines) and lines[i].strip() and _SETEXT_RULE.match(lines[nxt]) and i == nonblank[0]:
                return normalize_text(lines[i]), normalize_text("\n".join(lines[nxt + 1 :]))
    first = lines[nonblank[0]].strip()
    if len(first) <= MAX_TITLE_LINE and not first.endswith((".", ",", ";", ":")):
        rest = normalize_text("\n".join(lines[nonblank[0] + 1 :]))
        if rest:
            return normalize_text(first), rest
    return stem, normalize_text(raw)


def load(path: Path, source: str | None = None, limits: LoadLimits = DEFAULT_LIMITS) -> LoadResult:
    path = Path(path)
    source = source or os.path.abspath(path)
    deadline = limits.deadline(path)
    raw, encoding = read_text(path)
    if looks_like_press_releases(raw):
        articles = [
            dataclasses.replace(a, meta={**a.meta, "encoding": encoding}) for a in split_press_releases(raw, source)
        ]
        deadline.check("splitting press releases")
        if articles:
            return LoadResult(articles=articles)
    markdown = path.suffix.lower() in (".md", ".markdown")
    title, body = _title_and_body(raw, path.stem, markdown)
    body = body or normalize_text(raw)  # a file that is only a heading still gets indexed
    article = Article(
        source=source,
        text=body,
        title=title,
        span=(0, len(raw)),
        meta={"format": "markdown" if markdown else "text", "encoding": encoding},
    )
    return LoadResult(articles=[article])
