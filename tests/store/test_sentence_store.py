"""Sentence vectors stored per generation (RAG_SENTENCE_VECTORS=eager): exact spans, the collection's own vectors, consistent
through add / replace / delete and a process killed between the steps of a commit."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.answer.citations import split_sentence_spans
from rag.pipeline.indexer import delete_document, index_paths
from rag.settings import Settings
from rag.store.collection import Collection
from rag.store.manifest import FORMAT_VERSION, IncompatibleIndex
from tests.conftest import SAMPLE

# Two of the five sample files (the smallest) keep each index run short; 004 is the one changed below.
FILES = ["004_485b9bbcfeb48667.txt", "001_0615b6b790e0de63.txt"]


def _corpus(tmp_path: Path, files: list[str] = FILES) -> Path:
    corpus = tmp_path / "docs"
    corpus.mkdir()
    for name in files:
        shutil.copy(SAMPLE / name, corpus / name)
    return corpus


def _check_sentences(settings: Settings, embedder) -> int:  # noqa: ANN001
    """Every chunk's stored sentences are the answerer's spans, with the right vectors. Returns the count."""
    with Collection(settings.collection_dir).open_snapshot() as snap:
        assert snap.check() == [], snap.check()
        assert snap.has_sentence_vectors and snap.manifest.format_version == FORMAT_VERSION
        row_ids = snap.index.ids().tolist()
        passages = snap.passages(row_ids)
        stored = snap.sentences(row_ids)
        assert set(stored) == set(row_ids)
        texts, vecs = [], []
        for row_id, p in passages.items():
            assert p.row_id == row_id
            s = stored[row_id]
            assert s.doc_id == p.doc_id
            assert s.spans == [(p.start + a, p.start + b) for a, b in split_sentence_spans(p.text)]
            article = snap.article(p.doc_id)
            texts += [article.text[a:b] for a, b in s.spans]
            vecs.append(s.vectors)
        fresh = embedder.encode(texts)
        assert float(np.min(np.sum(fresh * np.vstack(vecs), axis=1))) > 0.999
        return len(texts)


def _orphan_sentence_rows(settings: Settings) -> int:
    conn = sqlite3.connect(str(settings.collection_dir / "rag.sqlite"))
    try:
        return conn.execute(
            "SELECT COUNT(*) FROM sentences s WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.row_id = s.row_id)"
        ).fetchone()[0]
    finally:
        conn.close()


def test_sentences_through_add_replace_delete(tmp_path, embedder):
    corpus = _corpus(tmp_path)
    settings = Settings(index_dir=tmp_path / "idx", collection="s", sentence_vectors="eager")
    first = index_paths([corpus], settings, embedder=embedder)
    n0 = _check_sentences(settings, embedder)
    assert first.sentences_added == n0 and 0 < first.sentences_embedded <= n0

    (corpus / "new.md").write_text("# Tea harvest\n\nThe Songjiang tea harvest reached 42 tonnes. Prices held.\n")
    added = index_paths([corpus], settings, embedder=embedder)
    assert added.sentences_added >= 2 and _check_sentences(settings, embedder) == n0 + added.sentences_added

    f = corpus / "004_485b9bbcfeb48667.txt"  # replace one article: its sentences are replaced too
    f.write_text(f.read_text().replace("50 cities", "51 cities"))
    changed = index_paths([corpus], settings, embedder=embedder)
    assert (changed.documents_added, changed.documents_removed) == (1, 1)
    assert changed.sentences_embedded < changed.sentences_added  # unchanged sentences come from the cache
    _check_sentences(settings, embedder)

    with Collection(settings.collection_dir).open_snapshot() as snap:
        victim = snap.documents()[0].doc_id
    delete_document(settings, victim)
    _check_sentences(settings, embedder)
    assert _orphan_sentence_rows(settings) == 0


def test_collection_without_sentence_vectors_returns_none(tmp_path, embedder):
    settings = Settings(index_dir=tmp_path / "idx", collection="n", sentence_vectors=False)
    report = index_paths([_corpus(tmp_path, FILES[1:])], settings, embedder=embedder)
    assert report.sentences_added == 0
    with Collection(settings.collection_dir).open_snapshot() as snap:
        assert not snap.has_sentence_vectors and snap.check() == []
        assert snap.sentences(snap.index.ids().tolist()) == {}


def test_format_1_collection_is_refused_with_the_exact_rebuild_command(tmp_path, embedder):
    corpus = _corpus(tmp_path)
    settings = Settings(index_dir=tmp_path / "idx", collection="old", sentence_vectors="eager")
    index_paths([corpus], settings, embedder=embedder)
    coll = Collection(settings.collection_dir)
    gen_manifest = settings.collection_dir / f"gen-{coll.generation():06d}" / "manifest.json"
    data = json.loads(gen_manifest.read_text())
    data["format_version"] = 1  # what a collection built before encoder identities looks like
    for key in ("encoder_backend", "encoder_family", "encoder_key", "sentence_vectors"):
        data.pop(key)
    gen_manifest.write_text(json.dumps(data))
    with sqlite3.connect(str(coll.db_path)) as conn:  # format 1 kept its manifest only in the folder
        conn.execute("DELETE FROM state WHERE key = 'manifest'")
    command = f"rag index {corpus} --collection old --index-dir {settings.index_dir} --rebuild"
    with pytest.raises(IncompatibleIndex) as refused:
        coll.open_snapshot()
    assert command in str(refused.value)
    with pytest.raises(IncompatibleIndex, match="--rebuild"):
        index_paths([corpus], settings, embedder=embedder)
    index_paths([corpus], settings, embedder=embedder, rebuild=True)  # what the command runs
    assert _check_sentences(settings, embedder) > 0


def _index_process(settings: Settings, corpus: Path, encoder_dir: Path, crash_at: str | None) -> int:
    env = {**os.environ, "RAG_INDEX_DIR": str(settings.index_dir), "RAG_COLLECTION": settings.collection,
           "RAG_EMBED_BACKEND": "onnx", "RAG_ENCODER_DIR": str(encoder_dir),
           "RAG_SENTENCE_VECTORS": "eager"}  # onnx: no torch start-up
    env.pop("RAG_CRASH_AT", None)
    if crash_at:
        env["RAG_CRASH_AT"] = crash_at
    proc = subprocess.run([sys.executable, "-m", "rag", "index", str(corpus), "--no-progress"],
                          env=env, capture_output=True, timeout=300)
    return proc.returncode


@pytest.mark.slow
def test_killed_between_steps_keeps_sentences_consistent(tmp_path, embedder, onnx_encoder_dir):
    corpus = _corpus(tmp_path)
    settings = Settings(index_dir=tmp_path / "idx", collection="k", sentence_vectors="eager")
    index_paths([corpus], settings, embedder=embedder)
    before = _check_sentences(settings, embedder)
    # A replace and an add in one run, killed after the SQLite changes and after the new generation's
    # files are written (both before the commit): the old generation stays whole.
    f = corpus / "004_485b9bbcfeb48667.txt"
    f.write_text(f.read_text().replace("50 cities", "51 cities"))
    (corpus / "new.md").write_text("# Tea harvest\n\nThe Songjiang tea harvest reached 42 tonnes. Prices held.\n")
    for point in ("after_sqlite_changes", "after_generation_written"):
        assert _index_process(settings, corpus, onnx_encoder_dir, point) == -signal.SIGKILL
        assert _check_sentences(settings, embedder) == before
        assert _orphan_sentence_rows(settings) == 0
    assert _index_process(settings, corpus, onnx_encoder_dir, "after_commit") == -signal.SIGKILL
    after = _check_sentences(settings, embedder)
    assert after > before
    assert _index_process(settings, corpus, onnx_encoder_dir, None) == 0  # nothing left to do
    assert _check_sentences(settings, embedder) == after
