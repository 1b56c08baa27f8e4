"""Loader for .pdf: one Article per page, so a citation can name its page.

Contract as in text.py: `load(path, source=None) -> LoadResult`. A page whose text cannot be
extracted becomes a problem (source = the file, page number in the message); encrypted, corrupt or text-less PDFs
raise LoadError. Article.span is (0, len(extracted page text)): PDF has no character offsets of
its own, and page_start/page_end carry the provenance.
"""

from __future__ import annotations

import os
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError, PyPdfError

from rag.ingest.errors import LoadError
from rag.ingest.limits import DEFAULT_LIMITS, LoadLimits
from rag.ingest.normalize import normalize_text
from rag.ingest.reflow import reflow
from rag.models import Article, LoadProblem, LoadResult


def _open(path: Path) -> PdfReader:
    try:
        reader = PdfReader(path, strict=False)
    except FileNotFoundError as e:
        raise LoadError(f"{path} does not exist; check the path") from e
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, OSError) as e:
        raise LoadError(f"{path} is not a readable PDF ({e}); re-export or repair it (e.g. `qpdf in.pdf out.pdf`)") from e
    if reader.is_encrypted:
        try:  # many "encrypted" PDFs only restrict printing and open with an empty password
            opened = reader.decrypt("")
        except (DependencyError, NotImplementedError) as e:
            raise LoadError(
                f"{path} is encrypted with a cipher this install cannot read ({e}); "
                "decrypt it first (`qpdf --decrypt in.pdf out.pdf`)"
            ) from e
        if not opened:
            raise LoadError(
                f"{path} is password-protected; decrypt it first (`qpdf --password=... --decrypt in.pdf out.pdf`)"
            )
    return reader


def _metadata(reader: PdfReader) -> tuple[str, str | None]:
    """(title, ISO creation date) from the document info, empty when absent or broken."""
    try:
        info = reader.metadata
        title = normalize_text(str(info.title or "")) if info else ""
        created = info.creation_date if info else None
    except (PyPdfError, ValueError, KeyError, TypeError):
        return "", None
    return title, created.date().isoformat() if created else None


def load(path: Path, source: str | None = None, limits: LoadLimits = DEFAULT_LIMITS) -> LoadResult:
    path = Path(path)
    source = source or os.path.abspath(path)
    deadline = limits.deadline(path)
    reader = _open(path)
    try:
        pages = list(reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError) as e:
        raise LoadError(f"{path} has a broken page tree ({e}); re-export or repair it (`qpdf in.pdf out.pdf`)") from e
    except FileNotDecryptedError as e:
        raise LoadError(f"{path} is encrypted; decrypt it first (`qpdf --decrypt in.pdf out.pdf`)") from e
    title, date = _metadata(reader)
    title = title or path.stem
    result = LoadResult()
    if len(pages) > limits.max_records:
        result.problems.append(LoadProblem(
            source, f"has {len(pages)} pages, more than {limits.max_records} (RAG_INGEST_MAX_RECORDS): pages after "
            f"{limits.max_records} were skipped; split the PDF"))
        pages = pages[: limits.max_records]
    for number, page in enumerate(pages, start=1):
        deadline.check(f"page {number}")
        try:
            raw = page.extract_text() or ""
        except Exception as e:  # noqa: BLE001 - pypdf raises many types on broken content streams
            result.problems.append(
                LoadProblem(source, f"page {number}: text could not be extracted ({e}); skipped")
            )
            continue
        text = reflow(normalize_text(raw))
        if not text:
            continue  # a blank or image-only page: nothing to cite
        result.articles.append(
            Article(
                source=source, text=text, title=title, date=date, span=(0, len(raw)),
                page_start=number, page_end=number, meta={"format": "pdf", "pages": str(len(pages))},
            )  # fmt: skip
        )
    if not result.articles and not result.problems:
        raise LoadError(
            f"{path} has no extractable text on any of its {len(pages)} page(s) (probably scanned images); "
            "run OCR on it first (e.g. `ocrmypdf in.pdf out.pdf`) and index the result"
        )
    return result
