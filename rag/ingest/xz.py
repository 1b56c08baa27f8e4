"""Loader for .txt.xz: an xz-compressed text file holding one document per non-empty line.

The shape of CRUD-RAG's `docs.txt.xz` (11,576 Chinese news articles, `<prefix>，正文：<body>` a line):
each line is read as rag.ingest.zh_news reads an article (the body is the text, the prefix gives the
date and outlet), and a line without the marker is a plain text document. As for .jsonl records,
every Article keeps `source` = the file, `meta["line"]` = its 1-based line number and `span` = the
character span of its line in the decompressed, decoded text; ids are sha256(source, title, text)
as for every article, so the same line twice is one document. A line that yields no text is a
LoadProblem naming the line; the rest of the file still loads.

Decompression is the stdlib's `lzma`, bounded: more than RAG_INGEST_MAX_FILE_BYTES of decompressed
data is refused (a few kB of xz can expand to gigabytes). Only `.txt.xz` is read; another compressed
type is refused with the command that decompresses it.
"""

from __future__ import annotations

import lzma
import os
from pathlib import Path

from rag.ingest.decode import decode_text
from rag.ingest.errors import LoadError
from rag.ingest.limits import DEFAULT_LIMITS, Deadline, LoadLimits
from rag.ingest.zh_news import Parsed, majority_year, modified_year, parse, to_article
from rag.models import LoadProblem, LoadResult

READ_BLOCK = 1 << 20


def _decompress(path: Path, limit: int) -> bytes:
    """The decompressed bytes, at most `limit` of them; LoadError saying what to do otherwise."""
    out = bytearray()
    try:
        with lzma.open(path, "rb") as f:
            while block := f.read(READ_BLOCK):
                out += block
                if len(out) > limit:
                    raise LoadError(
                        f"{path} decompresses to more than {limit:,} bytes, over the limit "
                        "(RAG_INGEST_MAX_FILE_BYTES); skipped. Split it into smaller .txt.xz files, or raise the limit")
    except lzma.LZMAError as e:
        raise LoadError(
            f"{path} is not a valid xz file ({e}); check it with `xz -t {path.name}`, then download it again or "
            "re-compress the text with `xz -k FILE.txt`") from e
    except EOFError as e:
        raise LoadError(
            f"{path} is cut short (the xz data ends before its end marker: an interrupted download or copy); "
            "download or copy it again, or check it with `xz -t`") from e
    return bytes(out)


def documents_per_line(raw: str, source: str, limits: LoadLimits, deadline: Deadline, fmt: str,
                       fallback_year: int | None = None) -> LoadResult:
    """One Article per non-empty line of `raw` (lines end at '\\n' only: a U+2028 inside an article is
    text, not a line end). A date without a year takes the year most of the file's dated lines carry,
    else `fallback_year` (the file's modification year)."""
    result = LoadResult()
    parsed: list[tuple[int, Parsed]] = []
    pos = 0
    for line_no, piece in enumerate(raw.split("\n"), start=1):
        line = piece[:-1] if piece.endswith("\r") else piece
        span = (pos, pos + len(line))
        pos += len(piece) + 1
        if not line.strip():
            continue
        if line_no % 1000 == 0:
            deadline.check(f"line {line_no}")
        if len(parsed) >= limits.max_records:
            result.problems.append(LoadProblem(
                source, f"has more than {limits.max_records} records (RAG_INGEST_MAX_RECORDS): line {line_no} and "
                "the lines after it were skipped; split the file"))
            break
        parsed.append((line_no, parse(line, span, {"format": fmt, "line": str(line_no)})))
    year = majority_year(p for _, p in parsed) or fallback_year
    for line_no, p in parsed:
        article = to_article(p, source, "", year)
        if article is None:
            result.problems.append(LoadProblem(
                source, f"line {line_no} has no text after its prefix {p.prefix.raw if p.prefix else ''!r}; "
                "add the article's text or remove the line"))
        else:
            result.articles.append(article)
    return result


def load(path: Path, source: str | None = None, limits: LoadLimits = DEFAULT_LIMITS) -> LoadResult:
    path = Path(path)
    source = source or os.path.abspath(path)
    inner = Path(path.stem).suffix.lower()
    if inner != ".txt":
        what = f"'{inner}' file" if inner else "file"
        raise LoadError(f"{path}: an xz-compressed {what}; only .txt.xz (one document a line) is read compressed. "
                        f"Decompress it with `xz -dk {path.name}` and index the result")
    deadline = limits.deadline(path)
    data = _decompress(path, limits.max_file_bytes)
    if not data.strip():
        raise LoadError(f"{path} is empty once decompressed (no text); add content or remove the file")
    raw, _encoding = decode_text(data, path)
    deadline.check("decompressing")
    return documents_per_line(raw, source, limits, deadline, "text-line", modified_year(path))
