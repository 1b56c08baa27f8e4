"""Kill a real `rag index` process at every step of a commit (and at a random moment while
embedding): the previous generation must stay loadable and consistent, and the next run must
finish the job."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.pipeline.indexer import index_paths
from rag.settings import Settings
from rag.store.collection import Collection
from tests.conftest import SAMPLE, SHARED

CRASH_POINTS = ["after_sqlite_changes", "mid_generation_write", "after_generation_written", "after_commit"]


def _state(settings: Settings) -> tuple[int, int, int]:
    with Collection(settings.collection_dir).open_snapshot() as snap:
        assert snap.check() == [], snap.check()
        # Every stored passage is retrievable and readable.
        some = snap.index.ids()[:5].tolist()
        assert len(snap.passages(some)) == len(some)
        return snap.generation, len(snap.documents()), snap.size


def _run_index(settings: Settings, corpus: Path, crash_at: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "RAG_INDEX_DIR": str(settings.index_dir), "RAG_COLLECTION": settings.collection}
    if crash_at:
        env["RAG_CRASH_AT"] = crash_at
    return subprocess.Popen(
        [sys.executable, "-m", "rag", "index", str(corpus), "--no-progress"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )


@pytest.fixture()
def seeded(tmp_path, embedder):
    corpus = tmp_path / "docs"
    shutil.copytree(SAMPLE, corpus)
    settings = Settings(index_dir=tmp_path / "idx", collection="crash")
    index_paths([corpus], settings, embedder=embedder)
    extra = corpus / "scifact.jsonl"
    lines = (SHARED / "eval" / "scifact" / "corpus.jsonl").read_text().splitlines()[:60]
    extra.write_text("\n".join(lines) + "\n")
    return settings, corpus


@pytest.mark.slow
def test_kill_at_each_commit_step(seeded):
    settings, corpus = seeded
    before = _state(settings)
    for point in CRASH_POINTS:
        proc = _run_index(settings, corpus, crash_at=point)
        proc.wait(timeout=300)
        assert proc.returncode == -signal.SIGKILL, proc.stdout.read().decode()
        gen, docs, chunks = _state(settings)
        if point == "after_commit":
            assert (gen, docs) == (before[0] + 1, before[1] + 60)
        else:
            assert (gen, docs, chunks) == before, f"crash at {point} changed the visible index"
    # The embedding cache survived only committed work; a clean run completes and is consistent.
    proc = _run_index(settings, corpus)
    out = proc.communicate(timeout=300)[0].decode()
    assert proc.returncode == 0, out
    gen, docs, chunks = _state(settings)
    assert docs == before[1] + 60


@pytest.mark.slow
def test_kill_while_embedding_then_resume(seeded):
    settings, corpus = seeded
    before = _state(settings)
    proc = _run_index(settings, corpus)
    time.sleep(6)  # model loaded, chunks being embedded
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert _state(settings)[:2] in (before[:2], (before[0] + 1, before[1] + 60))
    proc = _run_index(settings, corpus)
    assert proc.wait(timeout=300) == 0
    assert _state(settings)[1] == before[1] + 60
    assert not list(settings.collection_dir.glob("gen-*.tmp"))
