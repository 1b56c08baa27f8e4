"""Incremental indexing on real files with the real model and FAISS."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.pipeline.indexer import delete_document, index_paths
from rag.settings import Settings
from rag.store.collection import Collection
from rag.store.manifest import IncompatibleIndex
from tests.conftest import SAMPLE


def _snapshot_state(settings: Settings) -> tuple[int, int, set[str]]:
    with Collection(settings.collection_dir).open_snapshot() as snap:
        assert snap.check() == []
        docs = snap.documents()
        return len(docs), snap.size, {d.doc_id for d in docs}


def test_sample_counts(sample_settings):
    n_docs, n_chunks, _ = _snapshot_state(sample_settings)
    assert n_docs == 15
    assert n_chunks >= n_docs


def test_incremental_add_change_delete(tmp_path, embedder):
    corpus = tmp_path / "docs"
    shutil.copytree(SAMPLE, corpus)
    settings = Settings(index_dir=tmp_path / "idx", collection="t")
    first = index_paths([corpus], settings, embedder=embedder)
    assert first.documents_added == 15 and first.chunks_embedded == first.chunks_added
    docs0, chunks0, ids0 = _snapshot_state(settings)

    again = index_paths([corpus], settings, embedder=embedder)
    assert (again.documents_added, again.documents_removed, again.chunks_embedded) == (0, 0, 0)
    assert again.manifest.generation == first.manifest.generation  # no change, no new generation

    # Add a file.
    (corpus / "new.md").write_text("# Tea harvest\n\nThe Songjiang tea harvest reached 42 tonnes in April.\n")
    added = index_paths([corpus], settings, embedder=embedder)
    assert (added.documents_added, added.documents_removed) == (1, 0)
    assert added.chunks_embedded == added.chunks_added == 1

    # Change one article inside a multi-article file: only that article is replaced.
    f = corpus / "004_485b9bbcfeb48667.txt"
    f.write_text(f.read_text().replace("50 cities", "51 cities"))
    changed = index_paths([corpus], settings, embedder=embedder)
    assert (changed.documents_added, changed.documents_removed) == (1, 1)
    assert changed.chunks_embedded <= changed.chunks_added

    # Remove a file: its documents go.
    (corpus / "new.md").unlink()
    gone = index_paths([corpus], settings, embedder=embedder)
    assert (gone.documents_added, gone.documents_removed) == (0, 1)
    n_docs, _, ids = _snapshot_state(settings)
    assert n_docs == 15 and len(ids ^ ids0) == 2  # the changed article has a new id

    # Delete one document by id prefix.
    victim = sorted(ids)[0]
    m = delete_document(settings, victim[:16])
    assert m.documents == 14
    with pytest.raises(KeyError):
        delete_document(settings, victim[:16])
    assert _snapshot_state(settings)[0] == 14


def test_other_roots_are_left_alone(tmp_path, embedder):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "x.md").write_text("# X\n\nAlpha text about ports.\n")
    (b / "y.md").write_text("# Y\n\nBeta text about trains.\n")
    settings = Settings(index_dir=tmp_path / "idx", collection="t")
    index_paths([a], settings, embedder=embedder)
    index_paths([b], settings, embedder=embedder)
    assert _snapshot_state(settings)[0] == 2


def test_unreadable_files_are_reported_and_the_rest_indexed(tmp_path, embedder):
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "good.md").write_text("# Good\n\nThe Huangpu river ferry carries 10,000 riders a day.\n")
    (corpus / "empty.txt").write_text("   \n")
    (corpus / "binary.txt").write_bytes(bytes(range(256)) * 20)
    (corpus / "latin1.txt").write_bytes("Caf\xe9 menu prices rose in Xuhui district.".encode("latin-1"))
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    settings = Settings(index_dir=tmp_path / "idx", collection="t")
    report = index_paths([corpus], settings, embedder=embedder)
    problems = {Path(p.source).name: p.message for p in report.problems}
    assert {"empty.txt", "binary.txt", "broken.pdf"} <= set(problems)
    assert all(len(msg) > 15 for msg in problems.values())
    assert report.documents_added >= 1
    with Collection(settings.collection_dir).open_snapshot() as snap:
        titles = {d.title for d in snap.documents()}
    assert "Good" in titles


def test_changed_settings_are_refused_until_rebuild(tmp_path, embedder):
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "a.md").write_text("# A\n\nA short document about Minhang schools.\n")
    settings = Settings(index_dir=tmp_path / "idx", collection="t")
    index_paths([corpus], settings, embedder=embedder)
    other = settings.model_copy(update={"chunk_tokens": 120})
    with pytest.raises(IncompatibleIndex, match="--rebuild"):
        index_paths([corpus], other, embedder=embedder)
    report = index_paths([corpus], other, embedder=embedder, rebuild=True)
    assert report.manifest.chunk_tokens == 120
    assert Collection(settings.collection_dir).manifest().chunk_tokens == 120
    assert not (tmp_path / "idx" / "t.rebuild").exists()
