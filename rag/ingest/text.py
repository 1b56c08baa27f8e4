"""Loader for .txt / .md / .markdown: press-release dumps are split, anything else is one Article.

Markdown is rendered (markdown-it-py, CommonMark with inline HTML and tables) and read as a page's
visible text, as the HTML loader reads one: answers and citations quote "HTTP/2 support", not
"[HTTP/2 support](https://...)", badges and images drop out, and a paragraph wrapped over several
lines is one line. The article text, which citations point into, is that rendered text.

Loader contract (same for every format module): `load(path, source=None, limits=...) -> LoadResult`
(`limits`: rag/ingest/limits.py; discover passes it to every loader that takes it).
`articles` holds what was read, `problems` what was skipped inside the file (a bad JSONL line, an
unreadable PDF page); a file that cannot be read at all raises LoadError. `files_seen` is left
to discover.load_paths. `source` defaults to os.path.abspath(path).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from bs4 import BeautifulSoup, Tag
from markdown_it import MarkdownIt
from markdown_it.token import Token

from rag.ingest.decode import read_text
from rag.ingest.errors import LoadError
from rag.ingest.html import visible_text
from rag.ingest.limits import DEFAULT_LIMITS, LoadLimits, html_depth
from rag.ingest.news import looks_like_press_releases, split_press_releases
from rag.ingest.normalize import normalize_text
from rag.ingest.xz import documents_per_line
from rag.ingest.zh_news import modified_year, parse, split_marker, to_article
from rag.models import Article, LoadResult

MAX_TITLE_LINE = 120  # a first line longer than this is a paragraph, not a title
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# markdown-it's default nesting bound. CommonMark's preset has 20, past which the renderer drops text without a
# word: a list's 10th level (each level is two or three nested tokens) vanished. Python's recursion limit caps
# it from above (1,000 raised RecursionError on 500 nested quotes).
MARKDOWN_MAX_NESTING = 100


def _deepest(tokens: list[Token]) -> int:
    return max((max(t.level, _deepest(t.children or [])) for t in tokens), default=0)


def _markdown_title_and_body(raw: str, path: Path, limits: LoadLimits) -> tuple[str, str]:
    """(title, visible text) of a Markdown file. The title is a leading heading of any level (left out of the
    text so chunks do not repeat it), else the first level-1 heading (left in: it heads a later part), else
    what a plain-text file's would be (a short first line). A "## Sponsors" halfway down a README is no
    title of the README."""
    md = MarkdownIt("commonmark", {"html": True, "maxNesting": MARKDOWN_MAX_NESTING}).enable("table")
    tokens = md.parse(raw)
    if _deepest(tokens) >= MARKDOWN_MAX_NESTING - 1:  # the renderer stopped there: refuse rather than lose text
        raise LoadError(f"{path}: Markdown block quotes or lists nested about {MARKDOWN_MAX_NESTING // 2} levels "
                        "deep or more; the renderer would drop the deeper text. Flatten the nesting, or save the file "
                        "as .txt to index it as plain text")
    html = md.renderer.render(tokens, md.options, {})
    # Inline HTML passes through the renderer: bound its nesting as the HTML loader does before parsing (50,000
    # nested <div>s took 270 s to read, where the HTML loader refuses them at once).
    limits.check_depth(html_depth(html.encode("utf-8"), limits.max_depth), path, "HTML elements in the Markdown")
    soup = BeautifulSoup(html, "lxml")
    root = soup.body or soup
    first = next((c for c in root.children if isinstance(c, Tag)), None)
    title = ""
    if first is not None and first.name in _HEADINGS:
        title = normalize_text(first.get_text(" ").strip())
        first.decompose()
    elif isinstance(h1 := root.find("h1"), Tag):
        title = normalize_text(h1.get_text(" ").strip())
    body = visible_text(soup)
    if not title and body:
        return _title_and_body(body, path.stem)
    return title or path.stem, body or title


def _title_and_body(raw: str, stem: str) -> tuple[str, str]:
    """(title, body text) of a plain-text file. The title line is left out of the body so chunks do not repeat it."""
    lines = raw.splitlines()
    nonblank = [i for i, ln in enumerate(lines) if ln.strip()]
    first = lines[nonblank[0]].strip()
    if len(first) <= MAX_TITLE_LINE and not first.endswith((".", ",", ";", ":")):
        rest = normalize_text("\n".join(lines[nonblank[0] + 1 :]))
        if rest:
            return normalize_text(first), rest
    return stem, normalize_text(raw)


def _news_articles(raw: str, path: Path, source: str, encoding: str, limits: LoadLimits) -> LoadResult | None:
    """A `<prefix>，正文：<body>` file (rag/ingest/zh_news.py): one article, its text the body; or, when every
    non-empty line is such an article (a dump like docs.txt decompressed), one article a line. None when
    the first line has no marker near its start."""
    head = raw.lstrip()
    if split_marker(head[: head.find("\n") if "\n" in head else len(head)]) is None:
        return None  # every English file stops here, before any other work
    lines = [ln for ln in raw.split("\n") if ln.strip()]
    year = modified_year(path)
    if len(lines) > 1 and all(split_marker(ln) is not None for ln in lines):
        return documents_per_line(raw, source, limits, limits.deadline(path), "text-line", year)
    start = len(raw) - len(raw.lstrip())
    article = to_article(parse(raw[start:], (0, len(raw)), {"encoding": encoding}), source, path.stem, year)
    return LoadResult(articles=[article] if article else [])


def load(path: Path, source: str | None = None, limits: LoadLimits = DEFAULT_LIMITS) -> LoadResult:
    path = Path(path)
    source = source or os.path.abspath(path)
    deadline = limits.deadline(path)
    raw, encoding = read_text(path)
    if path.suffix.lower() == ".txt" and (news := _news_articles(raw, path, source, encoding, limits)) is not None:
        if news.articles or news.problems:
            return news
        raise LoadError(f"{path} has a news prefix but no text after its '，正文：' marker; add the article or remove the file")
    if looks_like_press_releases(raw):
        articles = [
            dataclasses.replace(a, meta={**a.meta, "encoding": encoding}) for a in split_press_releases(raw, source)
        ]
        deadline.check("splitting press releases")
        if articles:
            return LoadResult(articles=articles)
    markdown = path.suffix.lower() in (".md", ".markdown")
    title, body = _markdown_title_and_body(raw, path, limits) if markdown else _title_and_body(raw, path.stem)
    deadline.check("rendering the Markdown" if markdown else "reading the text")
    body = body or normalize_text(raw)  # a file that is only a heading still gets indexed
    article = Article(
        source=source,
        text=body,
        title=title,
        span=(0, len(raw)),
        meta={"format": "markdown" if markdown else "text", "encoding": encoding},
    )
    return LoadResult(articles=[article])
