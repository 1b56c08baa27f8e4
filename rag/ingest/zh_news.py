"""Chinese news articles kept as `<prefix>，正文：<body>` (CRUD-RAG's corpus, scraped news dumps).

The prefix is what the site printed before the article: a date in one of many shapes
(rag.ingest.dates.parse_news_date), a source line (`来源：人民日报`, `新华网   2023-08-04 08:40`,
`华夏经纬网 > 新闻 > 涉台新闻 2023-07-27 08:52:37`), or nothing. The Article's text is the body alone,
normalised as every loader's is, so citation spans point into the article and never quote the prefix.
The raw prefix is kept in `meta["prefix"]`; a source line becomes `meta["outlet"]` (and a reporter list
after it `meta["byline"]`), not the title: the title is prefixed to every chunk the encoder sees, and
an outlet name there would pull every article of that outlet together.

A prefix that holds no date leaves the article undated; no line is ever dropped for its prefix. A date
without a year ('07-20 22:43') takes the year the caller infers (the file's majority year, or the file's
modification year) and is marked `meta["date_inferred"] = "year"`.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from rag.ingest.dates import NewsDate, parse_news_date
from rag.ingest.normalize import normalize_text
from rag.models import Article

MARKER_WINDOW = 120  # the marker sits within the first 120 characters (the longest prefix in the corpus is 100)
# '，正文：' as written; the half-width and spaced forms are the same marker re-typed or re-encoded.
_MARKER = re.compile(r"[，,]\s*正文\s*[：:]")
_LABEL = re.compile(r"^(?:来源|稿源|发布时间|发表时间|发布日期|时间|日期)\s*[：:]?\s*")
_FROM = re.compile(r"\s*来自\s*\S.*$")  # '来自北京市': where a post was sent from, not who published it
_GAP = re.compile(r"\s{2,}")
_TRIM = " \t[]()【】<>/|-·"


def split_marker(line: str) -> tuple[str, str] | None:
    """(prefix, body) of a `<prefix>，正文：<body>` line or file, or None when it has no marker early on."""
    m = _MARKER.search(line, 0, MARKER_WINDOW + 4)
    if m is None or m.start() > MARKER_WINDOW:
        return None
    return line[: m.start()], line[m.end() :]


@dataclass(frozen=True)
class Prefix:
    """What a prefix says: its date (year possibly missing), and the outlet and byline it names."""

    raw: str
    date: NewsDate | None
    outlet: str = ""
    byline: str = ""


def read_prefix(prefix: str) -> Prefix:
    date = parse_news_date(prefix)
    rest = unicodedata.normalize("NFKC", prefix)
    if date is not None:
        rest = rest[: date.start] + "  " + rest[date.end :]
    rest = _FROM.sub("", rest).strip(_TRIM)
    rest = _LABEL.sub("", rest).strip(_TRIM)
    if not rest or not re.search(r"\w", rest):
        return Prefix(prefix, date)
    parts = _GAP.split(rest)  # '新海南客户端、南海网       记者王洪旭 实习生王玥彤': outlet, then reporters
    return Prefix(prefix, date, normalize_text(parts[0]), normalize_text(" ".join(parts[1:])))


@dataclass
class Parsed:
    """One article read from a line or file, waiting for the year its date may lack."""

    prefix: Prefix | None  # None: the line had no marker and is plain text
    body: str
    span: tuple[int, int]
    meta: dict[str, str] = field(default_factory=dict)


def parse(text: str, span: tuple[int, int], meta: dict[str, str] | None = None) -> Parsed:
    """A line (or a whole file) as an article body with its prefix read; a line without the marker is
    plain text, kept whole."""
    found = split_marker(text)
    if found is None:
        return Parsed(None, text, span, dict(meta or {}))
    prefix, body = found
    return Parsed(read_prefix(prefix), body, span, dict(meta or {}))


def majority_year(parsed: Iterable[Parsed]) -> int | None:
    """The year most dated articles of one file carry (ties: the later year), else None."""
    years = Counter(p.prefix.date.year for p in parsed if p.prefix and p.prefix.date and p.prefix.date.year)
    if not years:
        return None
    return max(years.items(), key=lambda kv: (kv[1], kv[0]))[0]


def modified_year(path: Path) -> int | None:
    """The year of the file's modification time: the best guess for a lone article's missing year."""
    try:
        return datetime.fromtimestamp(path.stat().st_mtime).year
    except (OSError, ValueError, OverflowError):
        return None


def to_article(p: Parsed, source: str, title: str, year: int | None) -> Article | None:
    """The Article for `p` (None when its body is empty after normalisation); `year` stands in for a
    missing one."""
    text = normalize_text(p.body)
    if not text:
        return None
    meta = dict(p.meta)
    date: str | None = None
    if p.prefix is None:
        meta["format"] = meta.get("format", "text")
    else:
        meta["format"] = "zh-news"
        meta["prefix"] = p.prefix.raw
        if p.prefix.outlet:
            meta["outlet"] = p.prefix.outlet
        if p.prefix.byline:
            meta["byline"] = p.prefix.byline
        if p.prefix.date is not None:
            date = p.prefix.date.iso(year)
            if date is not None and p.prefix.date.year is None:
                meta["date_inferred"] = "year"
    return Article(source=source, text=text, title=title, date=date, span=p.span, meta=meta)
