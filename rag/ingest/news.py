"""Split scraped press-release dumps (data/sample) into one Article per release.

Layout met in the sample corpus (see ../shared/README.md beside the repository):
  * a file holds one or more releases; the first starts at the first line, each later one
    starts with its title line written twice in a row, often ending in ` | Tag | Tag`;
  * an optional `Release time:May 09, 2024 16:30 PM` line follows the title;
  * a release may end by repeating its own title once, and a file may end with site
    boilerplate (`Charity In China reported , all right reserved`);
  * body paragraphs are one per line, separated by blank lines or not.
Titles and bodies are normalised; `span` is the raw character span of the whole release
(title line to its last line) in the text handed in, so the original can always be shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.ingest.dates import MONTH_DAY_YEAR, YMD, parse_date
from rag.ingest.normalize import normalize_text
from rag.models import Article

MAX_TITLE_CHARS = 400  # longest title in the sample is 308 chars; longer doubled lines are body text
_RELEASE_TIME = re.compile(r"^(?:release|publish(?:ed)?|post(?:ed)?)\s*(?:time|date|on)?\s*:", re.IGNORECASE)
_BOILERPLATE = re.compile(r"\ball rights? reserved\b|^(?:copyright\b|\(c\)\s|©)", re.IGNORECASE)
_TAG_FORBIDDEN = re.compile(r"[,.!?:;\"()\[\]]")
# "…platform. People | Supplement | …": the first tag glued to a title that ends a sentence.
_GLUED_TAG = re.compile(r"(?<=[.!?])[\"']?\s+(?P<tag>[A-Z][\w'-]*(?:\s+[\w'-]+){0,2})$")
_LINE_BREAKS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


@dataclass(frozen=True)
class _Line:
    index: int  # position among all raw lines (blank ones included), to tell adjacency
    start: int
    end: int
    key: str  # normalised content, for comparisons


def _lines(raw: str) -> list[_Line]:
    """Non-blank lines with their raw character offsets (line terminator excluded)."""
    out: list[_Line] = []
    pos = 0
    for i, piece in enumerate(raw.splitlines(keepends=True)):
        content = piece.rstrip(_LINE_BREAKS)
        if content.strip():
            out.append(_Line(i, pos, pos + len(content), normalize_text(content)))
        pos += len(piece)
    return out


def _is_title_like(key: str) -> bool:
    return 2 <= len(key.split()) and len(key) <= MAX_TITLE_CHARS and not _RELEASE_TIME.match(key)


def _is_boilerplate(key: str) -> bool:
    return len(key) <= 200 and bool(_BOILERPLATE.search(key))


def _doubled(lines: list[_Line], i: int) -> bool:
    """Line i is a title written twice in a row (on two adjacent raw lines)."""
    return (
        i + 1 < len(lines)
        and lines[i + 1].index == lines[i].index + 1
        and lines[i].key == lines[i + 1].key
        and _is_title_like(lines[i].key)
    )


def split_title_tags(title: str) -> tuple[str, tuple[str, ...]]:
    """'Title | Tag | Tag' -> ('Title', ('Tag', 'Tag')).

    Tags are the trailing ` | `-separated segments that read like keywords (no sentence
    punctuation, at most 12 words); a segment that reads like prose stays in the title, so
    'A | Looking back at X, Y | Issues' keeps 'A | Looking back at X, Y' as the title.
    """
    segments = title.split(" | ")
    tags: list[str] = []
    while len(segments) > 1 and _is_tag(segments[-1]):
        tags.insert(0, segments.pop().strip())
    head = " | ".join(segments).strip()
    if tags:
        m = _GLUED_TAG.search(head)
        if m and len(head[: m.start()].split()) >= 4:
            tags.insert(0, m.group("tag"))
            head = head[: m.start("tag")].rstrip()
    return head, tuple(tags)


def _is_tag(segment: str) -> bool:
    s = segment.strip()
    return bool(s) and len(s.split()) <= 12 and len(s) <= 100 and not _TAG_FORBIDDEN.search(s)


def _title_date(title: str) -> str | None:
    """A date written in the title ('… Meeting Held April 08,2024'); only full dates count."""
    for pattern in (MONTH_DAY_YEAR, YMD):
        m = pattern.search(title)
        if m:
            return parse_date(m.group(0))
    return None


def _article_starts(lines: list[_Line]) -> list[int]:
    starts = [0]
    for i in range(1, len(lines)):
        if _doubled(lines, i) and not (lines[i - 1].key == lines[i].key):
            starts.append(i)
    return starts


def _looks_like_title_then_body(lines: list[_Line]) -> bool:
    """A short, heading-like first line followed by a much longer paragraph."""
    if len(lines) < 2:
        return False
    title, body = lines[0].key, lines[1].key
    return (
        _is_title_like(title)
        and len(title.split()) >= 3
        and not re.match(r"[#>*\-|+=`~]|\d+[.)]\s", title)
        and not title.endswith(":")
        and len(body) >= 200
        and len(body) >= 1.5 * len(title)
    )


def looks_like_press_releases(raw: str) -> bool:
    """True for text laid out like the sample corpus (title line, optional release time, body).

    Strong signs: a `Release time:` line, a doubled title line, site boilerplate. Weak sign,
    enough on its own: a heading-like first line followed by a long paragraph; for such a file the
    splitter's output equals a single titled article anyway.
    """
    lines = _lines(raw)
    if not lines:
        return False
    if any(_RELEASE_TIME.match(ln.key) or _is_boilerplate(ln.key) for ln in lines):
        return True
    if any(_doubled(lines, i) for i in range(len(lines))):
        return True
    return _looks_like_title_then_body(lines)


def _build(raw: str, source: str, seg: list[_Line]) -> Article | None:
    title_line = seg[0]
    j = 1
    if len(seg) > 1 and seg[1].key == title_line.key and seg[1].index == title_line.index + 1:
        j = 2  # the doubled title
    date: str | None = None
    if j < len(seg) and _RELEASE_TIME.match(seg[j].key):
        date = parse_date(seg[j].key.split(":", 1)[1])
        j += 1
    title, tags = split_title_tags(title_line.key)
    body = [ln for ln in seg[j:] if not _is_boilerplate(ln.key)]
    # The closing repeat of the article's own title (with or without its tags).
    while body and body[-1].key in (title_line.key, title):
        body.pop()
    text = "\n\n".join(ln.key for ln in body)
    if not text:
        return None
    return Article(
        source=source,
        text=text,
        title=title,
        date=date or _title_date(title_line.key),
        tags=tags,
        span=(title_line.start, seg[-1].end),
        meta={"format": "press-release"},
    )


def split_press_releases(raw: str, source: str) -> list[Article]:
    """Every release in `raw` (the decoded file text) as an Article, in file order.

    A release with a title but no body is dropped: there is nothing to index or cite.
    """
    lines = _lines(raw)
    if not lines:
        return []
    starts = _article_starts(lines) + [len(lines)]
    articles: list[Article] = []
    for a, b in zip(starts, starts[1:]):
        article = _build(raw, source, lines[a:b])
        if article is not None:
            articles.append(article)
    return articles
