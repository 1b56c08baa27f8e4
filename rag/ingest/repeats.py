"""Files whose text repeats other files': a copy, or a site's single-page "print" version of its chapters.

Indexed twice, such text crowds the real pages out of the results (the print page was cited for
questions its chapters answer). Files are compared by their substantial lines (hashes of lines of
at least MIN_LINE_CHARS characters, weighted by length):

- a **copy**: another single file holds at least REPEAT_COVERAGE of its text and it holds as much
  of that file's: the one with the longer path ('usage-copy.html' beside 'usage.html') is dropped;
- a **concatenation**: at least REPEAT_COVERAGE of its text appears in other files, but no single
  one of them holds that much: it is dropped, the parts are kept;
- a chapter found inside a longer file is kept (the longer file is the concatenation).

JSONL and .txt.xz sources take no part: their records are data whose producer decides identity (an eval
set may give the same passage to several questions, each in its own file; a news dump holds the same
story from two outlets).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from rag.models import Article, LoadProblem

MIN_LINE_CHARS = 40  # shorter lines (headings, "Back to top", dates) repeat across any site's pages
REPEAT_COVERAGE = 0.9  # leaves room for a print page's own header, table of contents and footer
EXEMPT_SUFFIXES = (".jsonl", ".xz")


def _lines(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in text.split("\n"):
        line = " ".join(line.split())
        if len(line) >= MIN_LINE_CHARS:
            out[hashlib.blake2b(line.encode(), digest_size=12).hexdigest()] = len(line)
    return out


def find_repeats(articles: list[Article]) -> list[LoadProblem]:
    """One LoadProblem per file to drop, saying which files it repeats."""
    by_source: dict[str, dict[str, int]] = defaultdict(dict)
    for a in articles:
        if not a.source.lower().endswith(EXEMPT_SUFFIXES):
            by_source[a.source].update(_lines(a.text))
    holders: dict[str, set[str]] = defaultdict(set)
    for source, lines in by_source.items():
        for h in lines:
            holders[h].add(source)

    def share(x: str, y: str) -> float:
        """Fraction of x's text (by characters) that y holds too."""
        total = sum(by_source[x].values())
        return sum(n for h, n in by_source[x].items() if y in holders[h]) / total if total else 0.0

    drops: list[LoadProblem] = []
    for source in sorted(by_source):
        lines = by_source[source]
        total = sum(lines.values())
        if not total:
            continue
        covered = sum(n for h, n in lines.items() if len(holders[h]) > 1)
        if covered / total < REPEAT_COVERAGE:
            continue
        others = sorted({o for h in lines for o in holders[h]} - {source})
        whole = [o for o in others if share(source, o) >= REPEAT_COVERAGE]
        if not whole:
            names = ", ".join(_name(o) for o in others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
            drops.append(LoadProblem(source, f"repeats the text of {len(others)} other files ({names}), like a "
                                             "combined or print page; not indexed so its parts are cited instead"))
            continue
        copies_of = [o for o in whole if _keep_first(o) < _keep_first(source) and share(o, source) >= REPEAT_COVERAGE]
        if copies_of:
            drops.append(LoadProblem(source, f"has the same text as {_name(copies_of[0])}; not indexed twice"))
    return drops


def _keep_first(source: str) -> tuple[int, str]:
    """Of two copies the shorter path is kept ('usage.html' over 'usage-copy.html'), then path order."""
    return len(source), source


def _name(source: str) -> str:
    return source.rsplit("/", 1)[-1]
