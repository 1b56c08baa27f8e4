from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfWriter

from rag.ingest import pdf
from rag.ingest.errors import LoadError

MakePdf = Callable[..., Path]


def test_one_article_per_page_with_page_numbers(tmp_path: Path, make_pdf: MakePdf) -> None:
    p = make_pdf(
        tmp_path / "report.pdf",
        [["Annual report (draft).", "Revenue grew 3.5%\u00a0this year."], [], ["Third page: outlook.It is good."]],
        title="Annual Report 2024",
    )
    result = pdf.load(p)
    assert result.problems == []
    assert [(a.page_start, a.page_end) for a in result.articles] == [(1, 1), (3, 3)]  # blank page 2 skipped
    first, third = result.articles
    assert first.title == third.title == "Annual Report 2024"
    assert first.text == "Annual report (draft).\nRevenue grew 3.5% this year."
    assert third.text == "Third page: outlook. It is good."
    assert first.source == str(p) and first.meta["pages"] == "3"
    assert first.doc_id != third.doc_id


def test_title_falls_back_to_stem_and_date_from_metadata(tmp_path: Path, make_pdf: MakePdf) -> None:
    p = make_pdf(tmp_path / "minutes-may.pdf", [["Minutes of the meeting."]])
    writer = PdfWriter(clone_from=p)
    writer.add_metadata({"/CreationDate": "D:20240509163000+08'00'"})
    writer.write(p)
    (a,) = pdf.load(p).articles
    assert (a.title, a.date, a.text) == ("minutes-may", "2024-05-09", "Minutes of the meeting.")


def test_encrypted_pdf(tmp_path: Path, make_pdf: MakePdf) -> None:
    p = make_pdf(tmp_path / "locked.pdf", [["secret text"]], password="pw")
    with pytest.raises(LoadError, match="password-protected.*decrypt"):
        pdf.load(p)


def test_scanned_pdf_without_text(tmp_path: Path, make_pdf: MakePdf) -> None:
    p = make_pdf(tmp_path / "scan.pdf", [[], []])
    with pytest.raises(LoadError, match="no extractable text.*OCR"):
        pdf.load(p)


@pytest.mark.parametrize("cut", [0, 40, 300])
def test_corrupt_pdf(tmp_path: Path, make_pdf: MakePdf, cut: int) -> None:
    good = make_pdf(tmp_path / "good.pdf", [["some text"]]).read_bytes()
    p = tmp_path / "broken.pdf"
    p.write_bytes(good[:cut] if cut else b"%PDF-1.7\nthis is not a pdf at all\n")
    with pytest.raises(LoadError, match="not a readable PDF|no extractable text"):
        pdf.load(p)
