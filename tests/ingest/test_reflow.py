"""PDF line reflow: wrapped lines of one sentence are joined; headings, list items and clause ends keep theirs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rag.ingest import pdf
from rag.ingest.reflow import reflow


@pytest.mark.parametrize(("text", "expected"), [
    ("the differences were simply a result of them\nbeing separate.", "the differences were simply a result of them being separate."),
    ("a library for\nAbstract Syntax Notation One.", "a library for\nAbstract Syntax Notation One."),  # capital: kept
    ("(DER) manip-\nulation. Data manipulation is easy.", "(DER) manipulation. Data manipulation is easy."),
    ("A well-\nknown rule.", "A well-known rule."),  # "wellknown" is not on the page: the hyphen stays
    ("2.1. Directory layout\nThere are two requirements:\n• Applications must extend it,\nto add rules.",
     "2.1. Directory layout\n\nThere are two requirements:\n• Applications must extend it, to add rules."),  # a heading
    ("Shared MIME-info Database\n1.3. Language used in this specification\nThe key words are here.",
     "Shared MIME-info Database\n\n1.3. Language used in this specification\n\nThe key words are here."),  # page header
    ("Revenue grew 3.5%.\nprofits did not.", "Revenue grew 3.5%.\nprofits did not."),  # a sentence end: kept
    ("Overview\nThe data manip-\nulation step. Data manipulation is easy.",  # a heading before a split word
     "Overview\n\nThe data manipulation step. Data manipulation is easy."),
    ("one line only", "one line only"),
    ("", ""),
])
def test_reflow(text: str, expected: str) -> None:
    assert reflow(text) == expected


def test_pdf_page_text_is_reflowed(tmp_path: Path, make_pdf: Callable[..., Path]) -> None:
    p = make_pdf(tmp_path / "manual.pdf", [[
        "This manual is for a library for parsing and manip-",
        "ulation of encoded data. Manipulation is its",
        "only purpose.",
        "Overview",
    ]])
    (a,) = pdf.load(p).articles
    assert a.text == ("This manual is for a library for parsing and manipulation of encoded data. Manipulation is its "
                      "only purpose.\nOverview")
