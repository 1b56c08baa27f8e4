"""RagService: the use cases the CLI, the API and the MCP server share, against the real model and FAISS."""

from __future__ import annotations

import os

import pytest

from rag.files import atomic_path, atomic_write
from rag.ingest.dates import iso_day
from rag.service import FileStatus, RagService, UploadedFile, make_filters, text_document
from rag.service.errors import DocumentNotFound, InvalidRequest, NoIndex, NothingIndexed

FERRY = b"# Ferry timetable\n\nThe Pujiang ferry to Dongchang Road runs every 12 minutes from 7:00.\n"


@pytest.fixture()
def service(tmp_path, sample_settings, embedder):
    settings = sample_settings.model_copy(update={"index_dir": tmp_path / "index", "collection": "svc"})
    with RagService(settings, embedder=embedder) as s:
        yield s


def test_empty_collection_says_how_to_add_documents(service):
    with pytest.raises(NoIndex, match="rag index PATH"):
        service.ask("anything?")
    with pytest.raises(NoIndex):
        service.stats()


def test_one_bad_file_never_rejects_the_others(service):
    files = [
        UploadedFile("ferry notes.md", FERRY),
        UploadedFile("tool.exe", b"MZ\x90\x00"),
        UploadedFile("empty.txt", b"  \n"),
        UploadedFile("broken.pdf", b"%PDF-1.4 not really a pdf"),
        UploadedFile("../ferry_notes.md", b"same safe name as the first file\n"),
    ]
    result = service.add_files(files)
    status = {r.name: (r.status, r.code) for r in result.results}
    assert status == {
        "ferry notes.md": (FileStatus.indexed, None),
        "tool.exe": (FileStatus.skipped, "unsupported_file_type"),
        "empty.txt": (FileStatus.skipped, "empty_file"),
        "broken.pdf": (FileStatus.skipped, "load_failed"),
        "../ferry_notes.md": (FileStatus.skipped, "duplicate_name"),
    }
    assert [r.name for r in result.results] == [f.name for f in files], "results come back in upload order"
    assert all(r.reason for r in result.results if r.status is FileStatus.skipped)
    assert result.files == ["ferry_notes.md"] and result.documents_added == 1
    kept = sorted(p.name for p in service.uploads_dir.iterdir())
    assert kept == ["ferry_notes.md"], "skipped files are not left on disk"
    hit = service.search("Pujiang ferry Dongchang Road", k=1).hits[0]
    assert "every 12 minutes" in hit.passage.text

    again = service.add_files([UploadedFile("ferry notes.md", FERRY)])
    assert again.results[0].status is FileStatus.unchanged and again.documents_added == 0


def test_all_files_bad_raises_with_per_file_reasons(service):
    with pytest.raises(NothingIndexed) as e:
        service.add_files([UploadedFile("a.exe", b"x"), UploadedFile("b.txt", b"")])
    assert e.value.code == "nothing_indexed" and [r.code for r in e.value.results] == [
        "unsupported_file_type", "empty_file"]
    with pytest.raises(NothingIndexed) as e:
        service.add_files([UploadedFile("a.exe", b"x")])
    assert e.value.code == "unsupported_file_type"


def test_text_document_article_and_delete(service):
    up = service.add_files([text_document("The Lantern Library holds 48,000 books about water towns.",
                                          title="Lantern Library", date="2024-03-03")])
    doc = up.documents[0]
    article = service.article(doc.doc_id)
    assert article.title == "Lantern Library" and article.date.startswith("2024-03-03")
    answer = service.ask("How many books does the Lantern Library hold?")
    assert not answer.refused
    c = answer.citations[0]
    assert c.doc_id == doc.doc_id and article.text[c.start:c.end] == c.quote
    assert service.stats().manifest.documents == 1

    gone = service.delete(doc.doc_id)
    assert gone.documents == 0
    assert not any(service.uploads_dir.iterdir()), "the upload of a deleted document is removed"
    with pytest.raises(DocumentNotFound):
        service.article(doc.doc_id)
    with pytest.raises(DocumentNotFound):
        service.delete(doc.doc_id)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"since": "3 March"}, "YYYY-MM-DD"),
        ({"until": "2024-02-30"}, "YYYY-MM-DD"),
        ({"since": "2024-05-01", "until": "2024-04-01"}, "swap"),
    ],
)
def test_filters_are_checked_once(kwargs, message):
    with pytest.raises(InvalidRequest, match=message):
        make_filters(**kwargs)


def test_filters_and_dates():
    assert make_filters() is None and make_filters(source="  ") is None
    f = make_filters(since="2024-01-01", source="*pudong*")
    assert f is not None and f.since == "2024-01-01" and f.source_glob == "*pudong*"
    assert iso_day(" 2024-03-03 ") == "2024-03-03" and iso_day("") is None


def test_question_checks(service, sample_settings, embedder):
    with RagService(sample_settings, embedder=embedder) as s:
        with pytest.raises(InvalidRequest, match="empty"):
            s.ask("   ")
        with pytest.raises(InvalidRequest) as e:
            s.ask("x" * (sample_settings.max_question_chars + 1))
        assert e.value.code == "question_too_long"


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "f.json"
    atomic_write(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash while writing")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["f.json"]
    atomic_write(target, b"new")
    assert target.read_text() == "new"


def test_refusals_counted_per_day_without_text_unless_turned_on(service, tmp_path):
    from datetime import datetime, timedelta, timezone

    from rag.models import Answer
    from rag.service.refusals import RefusalLog

    # three sentences, not one: a lone sentence is refused by issue 10's evidence model (tests/service/test_cli.py)
    service.add_files([UploadedFile("kiosk.txt", b"The Bund kiosk opened in March near the ferry pier.\nThe Bund kiosk "
                                    b"sells paper maps of the Yuyuan Garden for 15 yuan.\nIt also rents audio guides.\n")])
    assert not service.ask("How much do paper maps cost at the Bund kiosk?").refused
    assert service.ask("What is the boiling point of liquid nitrogen on Mars?").refused
    st = service.refusal_stats()
    assert (st.asked, st.refused, st.questions_logged, st.questions) == (2, 1, False, [])
    assert st.days[0].day == datetime.now(timezone.utc).date().isoformat()
    assert b"nitrogen" not in service.refusals.path.read_bytes(), "no question text unless the operator asks"

    log = RefusalLog(tmp_path / "c", keep_questions=True, retention_days=7)
    now = datetime(2024, 5, 10, 12, tzinfo=timezone.utc)
    refused = Answer(question="Who won the 1998 regatta?", answer="No.", refused=True, mode="extractive")
    log.record(refused, now - timedelta(days=8))
    log.record(refused.model_copy(update={"question": "Opening hours of the museum?"}), now)
    st = log.stats(days=30, now=now)
    assert [q.question for q in st.questions] == ["Opening hours of the museum?"], "older than 7 days: deleted"
    assert [(d.day, d.refused) for d in st.days] == [("2024-05-10", 1), ("2024-05-02", 1)], "counts stay"
    off = RefusalLog(tmp_path / "c", keep_questions=False, retention_days=7)
    assert off.stats(days=30, now=now).questions == [] and b"museum" not in off.path.read_bytes()
    wal = off.path.with_name(off.path.name + "-wal")  # the kept connections write ahead to a log file
    assert not wal.exists() or b"museum" not in wal.read_bytes(), "deleted text must not linger in the log"



def test_rebuild_keeps_uploaded_documents(service, tmp_path):
    """`rag index PATH --rebuild` re-embeds PATH and the files added over the API (kept in the
    collection's uploads/ folder, which the user never names): none is lost, on disk or in the index."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "tram.md").write_text("# Tram\n\nThe Zhangjiang tram runs every 8 minutes on weekdays.\n")
    service.index([folder])
    service.add_files([UploadedFile("ferry notes.md", FERRY)])
    service.index([folder], rebuild=True)
    assert (service.uploads_dir / "ferry_notes.md").read_bytes() == FERRY
    sources = {d.source for d in service.documents()}
    assert sources == {str(folder / "tram.md"), str(service.uploads_dir / "ferry_notes.md")}
    assert "every 12 minutes" in service.search("Pujiang ferry Dongchang Road", k=1).hits[0].passage.text
    assert not service.settings.collection_dir.with_name("svc.old").exists()


def test_queries_are_computed_at_most_max_concurrent_queries_at_once(sample_settings, embedder):
    """20 clients must not run 20 encoders at once (README, Memory under load): the rest wait their turn."""
    import threading
    import time

    settings = sample_settings.model_copy(update={"max_concurrent_queries": 1})
    with RagService(settings, embedder=embedder) as service:
        assistant = service.assistant()
        inside, most, lock = [0], [0], threading.Lock()
        real_search = assistant.search

        def counting_search(*args, **kwargs):  # the real search, observed
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.05)
            try:
                return real_search(*args, **kwargs)
            finally:
                with lock:
                    inside[0] -= 1

        assistant.search = counting_search
        threads = [threading.Thread(target=service.search, args=("Yangpu quarterly meeting",)) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert most[0] == 1
        assert service.ask("Who chaired the Yangpu quarterly work meeting?").answer  # streams through the slot too
