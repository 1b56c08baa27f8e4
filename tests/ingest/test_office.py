"""Office loaders on real files: one document per file, parts (slide / sheet / section) located, exact spans."""

from __future__ import annotations

import json

import pytest

from rag.ingest.discover import load_paths
from rag.ingest.errors import LoadError
from rag.ingest.office_docx import load as load_docx
from rag.ingest.office_pptx import load as load_pptx
from rag.ingest.office_xlsx import load as load_xlsx
from rag.ingest.parts import part_at
from tests.ingest.office_files import write_docx, write_pptx, write_xlsx


def _where(article, phrase: str) -> str | None:
    start = article.text.index(phrase)
    return part_at(article, start)


def test_docx(tmp_path):
    [a] = load_docx(write_docx(tmp_path / "report.docx")).articles
    assert a.title == "Ferry services report" and a.date == "2024-03-03"
    assert "every 12 minutes" in a.text and "Dongchang Road | 2 yuan" in a.text
    assert _where(a, "Intro paragraph") == "start"
    assert _where(a, "every 12 minutes") == "section 'Timetable'"
    assert _where(a, "pier kiosk") == "section 'Tickets'"
    assert a.meta["format"] == "docx"


def test_docx_title_falls_back_to_first_heading(tmp_path):
    [a] = load_docx(write_docx(tmp_path / "r.docx", title="")).articles
    assert a.title == "Timetable"


def test_pptx(tmp_path):
    [a] = load_pptx(write_pptx(tmp_path / "deck.pptx")).articles
    assert a.title == "Library opening" and a.date == "2024-03-03" and a.meta["slides"] == "3"
    assert _where(a, "48,000 books") == "slide 2"
    assert _where(a, "rare maps") == "slide 2", "speaker notes are part of their slide"
    assert _where(a, "9:00 to 21:00") == "slide 3" and "Every day | 9:00 to 21:00" in a.text
    offsets = [start for start, _ in json.loads(a.meta["parts"])]
    assert offsets == sorted(offsets) and offsets[0] == 0


def test_xlsx(tmp_path):
    [a] = load_xlsx(write_xlsx(tmp_path / "budget.xlsx")).articles
    assert a.title == "District budget 2024" and a.date == "2024-03-03"
    assert "Parks | 120" in a.text and "Schools | 340" in a.text
    assert _where(a, "Schools") == "sheet 'Budget'"
    assert _where(a, "rises by 12 percent") == "sheet 'Notes'"
    assert "Approved on | 2024-01-15" in a.text


@pytest.mark.parametrize("loader,suffix", [(load_docx, ".docx"), (load_pptx, ".pptx"), (load_xlsx, ".xlsx")])
def test_corrupt_file_says_what_to_do(tmp_path, loader, suffix):
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(b"PK\x03\x04 this is not a real zip archive")
    with pytest.raises(LoadError, match="re-save it"):
        loader(path)


def test_discover_skips_a_corrupt_office_file_and_loads_the_rest(tmp_path):
    write_docx(tmp_path / "good.docx")
    (tmp_path / "bad.pptx").write_bytes(b"not a presentation")
    result = load_paths([tmp_path])
    assert [a.title for a in result.articles] == ["Ferry services report"]
    assert len(result.problems) == 1 and "bad.pptx" in result.problems[0].source


def test_office_citation_names_its_part(tmp_path, sample_settings, embedder):
    """Indexed and asked: the citation's quote is exact and says which slide it came from."""
    from rag.models import AskRequest
    from rag.service import RagService

    write_pptx(tmp_path / "deck.pptx")
    settings = sample_settings.model_copy(update={"index_dir": tmp_path / "index", "collection": "office"})
    with RagService(settings, embedder=embedder) as service:
        service.index([tmp_path / "deck.pptx"])
        answer = service.ask(AskRequest(question="How many books does the Lantern Library hold?"))
        assert not answer.refused, answer.answer
        c = answer.citations[0]
        article = service.article(c.doc_id)
        assert article.text[c.start:c.end] == c.quote and c.location == "slide 2"
