"""Fixtures for the ingest tests: files written to tmp_path, PDFs built with pypdf alone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "data" / "sample"


def _pdf_string(line: str) -> str:
    return "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def write_pdf(path: Path, pages: list[list[str]], title: str | None = None, password: str | None = None) -> Path:
    """A real PDF whose pages carry the given text lines (Helvetica, one line per row).

    An empty list makes a page with no text, like a scanned image page.
    """
    writer = PdfWriter()
    font = writer._add_object(  # noqa: SLF001 - pypdf has no public "add font" helper
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
    )
    for lines in pages:
        page = writer.add_blank_page(width=612, height=792)
        body = " T* ".join(f"{_pdf_string(ln)} Tj" for ln in lines)
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 11 Tf 14 TL 72 720 Td {body} ET".encode("latin-1") if lines else b"")
        page[NameObject("/Contents")] = writer._add_object(stream)  # noqa: SLF001
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
    if title:
        writer.add_metadata({"/Title": title})
    if password:
        writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="RC4-128")
    with path.open("wb") as fh:
        writer.write(fh)
    return path


@pytest.fixture
def make_pdf() -> Callable[..., Path]:
    return write_pdf


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    if not SAMPLE_DIR.is_dir():
        pytest.fail(f"bundled sample corpus missing at {SAMPLE_DIR}")
    return SAMPLE_DIR


# ../shared beside the repository, as in CI. Missing data is a failure that names the path, never a skip.
ZH_NEWS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "crud-news-zh" / "docs.txt.xz"


def zh_news_lines(n: int) -> list[str]:
    """The first `n` lines of the Chinese news corpus, decompressed with the stdlib."""
    import lzma

    if not ZH_NEWS.exists():
        pytest.fail(f"Chinese news corpus not found at {ZH_NEWS}: put the shared data folder at ../shared beside the repository")
    out: list[str] = []
    with lzma.open(ZH_NEWS, "rt", encoding="utf-8", newline="\n") as f:
        for line in f:
            if len(out) >= n:
                break
            out.append(line.rstrip("\n"))
    return out
