"""Bounds on the work one input file may cost, so a hostile or broken file is skipped, not obeyed.

Measured (2 shared cores): HTML nested 1k deep parses in 0.08 s, 5k in 1.2-2.6 s, 20k in 17.8 s
(quadratic in the depth), and 100k deep did not finish; a JSONL line of 100k nested arrays made
`json.loads` raise RecursionError and stopped the whole `rag index` run. So, per file:

- size: checked before reading (`max_file_bytes`);
- unpacked size: Office files (.docx/.pptx/.xlsx) are zip archives; their entries' declared sizes
  are summed from the zip's directory before any parser inflates one (`max_file_bytes` again: a
  few hundred kB of zip can declare gigabytes of XML). Python's zipfile never inflates an entry
  past its declared size, so a lying directory cannot get round the check;
- nesting: HTML tags and JSON brackets are counted by a linear scan before any parser sees them
  (`max_depth`; real pages nest < 100 deep, real records < 20);
- records: JSONL lines and PDF pages beyond `max_records` are skipped and reported;
- time: loaders check a `Deadline` between steps (per record, per page, between parse stages) and
  give up past `max_parse_s`. The checks are between steps, so one step is bounded by the size
  and depth limits, not by the clock.

Each bound is a setting (RAG_INGEST_*); a file over one is skipped with a problem naming the bound
and the setting, and the rest of the run goes on.
"""

from __future__ import annotations

import re
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.ingest.errors import LoadError


@dataclass(frozen=True)
class LoadLimits:
    max_file_bytes: int = 100_000_000
    max_depth: int = 1_000
    max_records: int = 1_000_000
    max_parse_s: float = 60.0

    @classmethod
    def from_settings(cls, settings: Any) -> LoadLimits:
        return cls(
            max_file_bytes=settings.ingest_max_file_bytes,
            max_depth=settings.ingest_max_depth,
            max_records=settings.ingest_max_records,
            max_parse_s=settings.ingest_max_parse_s,
        )

    def deadline(self, path: Path) -> Deadline:
        return Deadline(path, self.max_parse_s)

    def check_depth(self, depth: int, path: Path, what: str) -> None:
        if depth > self.max_depth:
            raise LoadError(too_deep(path, what, self.max_depth))


    def check_unpacked(self, path: Path) -> None:
        """Refuse a zip-based file (Office) whose entries would inflate past `max_file_bytes`.

        A file that is not a zip at all is left to its loader, whose error says what the file is not."""
        try:
            with zipfile.ZipFile(path) as archive:
                entries = archive.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return
        if len(entries) > MAX_ZIP_ENTRIES:
            raise LoadError(f"{path}: a zip of {len(entries):,} entries (real Office files hold a few hundred, "
                            f"at most {MAX_ZIP_ENTRIES:,} accepted); skipped. The file is probably generated or broken")
        unpacked = sum(e.file_size for e in entries)
        if unpacked > self.max_file_bytes:
            raise LoadError(f"{path} unpacks to {unpacked:,} bytes, over the limit of {self.max_file_bytes:,} "
                            "(RAG_INGEST_MAX_FILE_BYTES); skipped. Split it, or raise the limit if it is genuine")


MAX_ZIP_ENTRIES = 10_000  # a 300-slide deck with media holds ~1,500 parts
DEFAULT_LIMITS = LoadLimits()


def too_deep(path: Path | str, what: str, limit: int) -> str:
    return (f"{path}: {what} nested more than {limit} levels deep (RAG_INGEST_MAX_DEPTH); skipped. "
            "Real documents nest far less: the file is probably generated or broken")


class Deadline:
    """Raises LoadError once `limit_s` seconds have passed since the loader started on `path`."""

    def __init__(self, path: Path, limit_s: float) -> None:
        self.path, self.limit_s = path, limit_s
        self.started = time.monotonic()

    def expired(self) -> bool:
        return time.monotonic() - self.started > self.limit_s

    def check(self, step: str) -> None:
        if self.expired():
            raise LoadError(
                f"{self.path}: parsing took longer than {self.limit_s:g} s (RAG_INGEST_MAX_PARSE_S), at {step}; "
                "skipped. Split the file, or raise the limit if it is genuine"
            )


# HTML elements that never nest (void) or that a parser closes by itself when the next one opens
# (an unclosed <p> or <li> list is not deep nesting).
_NON_NESTING = frozenset(
    "area base br col embed hr img input link meta param source track wbr "
    "p li dt dd tr td th thead tbody tfoot option optgroup colgroup caption rb rt rp".split()
)
_TAG = re.compile(rb"<(/?)([A-Za-z][A-Za-z0-9:-]*)[^>]*?(/?)>")
_RAWTEXT = re.compile(rb"<(script|style)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)


def html_depth(markup: bytes, stop_above: int) -> int:
    """Upper estimate of the element nesting depth; stops counting once past `stop_above`."""
    markup = _RAWTEXT.sub(b"", markup)
    depth = deepest = 0
    for match in _TAG.finditer(markup):
        closing, name, self_closing = match.groups()
        if self_closing or name.lower().decode("ascii", "replace") in _NON_NESTING:
            continue
        if closing:
            depth = max(0, depth - 1)
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest > stop_above:
                break
    return deepest


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def json_depth(text: str, stop_above: int) -> int:
    """Nesting depth of arrays/objects in one JSON text (brackets inside strings ignored)."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(_JSON_STRING.sub('""', text)):
        if match.group() in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_above:
                    break
        else:
            depth -= 1
    return deepest
