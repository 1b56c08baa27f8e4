"""rag.service.files: documents grouped by file, newest first; a whole file deleted in one generation (any front end)."""

from __future__ import annotations

import os
import sqlite3

import pytest

from rag.service import RagService, UploadedFile
from rag.service.display import DisplayNames
from rag.service.errors import FileNotFound, InvalidRequest
from rag.service.files import delete_file, file_id, list_files
from tests.conftest import SAMPLE

MULTI = SAMPLE / "002_679cc89de41e4925.txt"  # six press releases in one file


@pytest.fixture()
def service(tmp_path, sample_settings, embedder):
    settings = sample_settings.model_copy(update={"index_dir": tmp_path / "index", "collection": "files"})
    with RagService(settings, embedder=embedder) as s:
        s.add_files([UploadedFile("first.txt", MULTI.read_bytes())])
        s.add_files([UploadedFile("second.md", b"# Ferry\n\nThe Pujiang ferry runs every 12 minutes from 7:00.\n")])
        yield s


def test_files_newest_first_with_articles_in_file_order(service):
    names = DisplayNames(service)
    listed = names(list_files(service, names.current()))
    assert [f.source for f in listed.files] == ["uploads/second.md", "uploads/first.txt"]
    first = listed.files[1]
    assert len(first.articles) == 6 and listed.documents == 7 and listed.total == 2
    assert first.file_id == file_id(os.path.abspath(service.uploads_dir / "first.txt"))
    assert first.indexed_at and first.indexed_at.endswith("Z") and listed.files[0].indexed_at >= first.indexed_at
    texts = [service.article(a.doc_id).text for a in first.articles]
    assert all(t.startswith(a.preview.rstrip("…")) for t, a in zip(texts, first.articles))
    assert all(len(a.preview) <= 401 for a in first.articles)
    assert [f.source for f in names(list_files(service, names.current(), q="SECOND")).files] == ["uploads/second.md"]
    with pytest.raises(InvalidRequest, match="at most 200"):
        list_files(service, names.current(), q="x" * 201)


def test_an_index_from_before_ingest_times_still_lists_newest_first(service):
    with sqlite3.connect(service.collection.db_path) as conn:  # what a collection built before the table holds
        conn.execute("DELETE FROM ingested")
    service.add_files([UploadedFile("third.txt", b"The Bund kiosk sells paper maps for 15 yuan.\n")])
    names = DisplayNames(service)
    files = names(list_files(service, names.current())).files
    assert [f.source for f in files] == ["uploads/third.txt", "uploads/second.md", "uploads/first.txt"]
    assert files[0].indexed_at and files[1].indexed_at is None and files[2].articles[0].indexed_at is None


def test_delete_a_file_with_all_its_articles_by_name_or_id(service):
    names = DisplayNames(service)
    before = service.collection.generation()
    result = delete_file(service, names.current(), "uploads/first.txt")
    assert len(result.deleted) == 6 and result.documents == 1
    assert result.generation == before + 1, "one generation for the whole file"
    assert not (service.uploads_dir / "first.txt").exists()
    with pytest.raises(FileNotFound, match="List the files"):
        delete_file(service, names.current(), "uploads/first.txt")
    second = list_files(service, names.current()).files[0]
    assert delete_file(service, names.current(), second.file_id).deleted == [a.doc_id for a in second.articles]
