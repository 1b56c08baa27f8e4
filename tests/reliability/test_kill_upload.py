"""SIGKILL the real `rag serve` in the middle of an upload, restart it: nothing is lost, no orphan.

The kill lands at named points (RAG_CRASH_AT, rag/store/faults.py): after the upload is on disk
but before it is indexed, and inside the index commit. On restart the server must come up, keep
every document it had, and index the upload the crash left behind (rag/service/recovery.py).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from api.testing import free_port
from rag.service.recovery import recover_uploads
from tests.reliability.badfiles import GOOD_TEXT

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@contextmanager
def rag_serve(index_dir: Path, crash_at: str | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "RAG_RATE_LIMIT_PER_MINUTE": "0"}
    env.pop("RAG_CRASH_AT", None)
    if crash_at:
        env["RAG_CRASH_AT"] = crash_at
    process = subprocess.Popen(
        [sys.executable, "-m", "rag", "serve", "--port", str(port), "--index-dir", str(index_dir), "-c", "sample",
         "--log-level", "warning"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, process.stderr.read().decode()[-2000:] if process.stderr else ""
            try:
                if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "rag serve did not become ready"
            time.sleep(0.3)
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def doc_ids(url: str) -> set[str]:
    return {d["doc_id"] for d in httpx.get(f"{url}/v1/documents", params={"limit": 1000}, timeout=30).json()["documents"]}


@pytest.mark.parametrize("crash_at", ["upload_before_index", "after_sqlite_changes"])
def test_killed_mid_upload_then_restarted(sample_settings, tmp_path, crash_at):
    index_dir = tmp_path / "index"
    shutil.copytree(sample_settings.collection_dir, index_dir / "sample")
    with rag_serve(index_dir, crash_at) as (url, process):
        before = doc_ids(url)
        with pytest.raises(httpx.HTTPError):  # the server dies before it can answer
            httpx.post(f"{url}/v1/documents", files={"files": ("report.txt", GOOD_TEXT, "text/plain")}, timeout=120)
        assert process.wait(timeout=30) == -signal.SIGKILL
    uploads = index_dir / "sample" / "uploads"
    assert (uploads / "report.txt").is_file()  # on disk, not in the index: an orphan

    with rag_serve(index_dir) as (url, _):
        ready = httpx.get(f"{url}/readyz", timeout=30).json()
        assert ready["recovered_uploads"]["indexed"] == ["report.txt"]
        after = doc_ids(url)
        assert before < after and len(after - before) == 1  # nothing lost, the orphan indexed
        sources = {d["source"] for d in httpx.get(f"{url}/v1/documents", params={"limit": 1000}, timeout=30).json()["documents"]}
        assert "uploads/report.txt" in sources
    assert sorted(p.name for p in uploads.iterdir()) == ["report.txt"]  # no .part / .bak / staging left


def test_recovery_cleans_partial_files_and_reports_unreadable_ones(sample_settings, embedder, tmp_path):
    settings = sample_settings.model_copy(update={"index_dir": tmp_path})
    shutil.copytree(sample_settings.collection_dir, settings.collection_dir)
    uploads = settings.collection_dir / "uploads"
    uploads.mkdir(exist_ok=True)
    (uploads / ".half.txt.part").write_bytes(b"half writ")
    (uploads / "kept.txt").write_bytes(GOOD_TEXT)
    (uploads / ".kept.txt.bak").write_bytes(GOOD_TEXT)  # killed after the backup, before the swap
    (uploads / ".restored.txt.bak").write_bytes(GOOD_TEXT.replace(b"one", b"two"))  # ...with no file beside it
    (uploads / ".staging-abc").mkdir()
    (uploads / "broken.pdf").write_bytes(b"%PDF-1.7\n")
    report = recover_uploads(settings, embedder)
    assert sorted(report.indexed) == ["kept.txt", "restored.txt"]
    assert list(report.failed) == ["broken.pdf"] and "PDF" in report.failed["broken.pdf"]
    assert str(tmp_path) not in report.failed["broken.pdf"]  # shown by /readyz: no server paths
    assert sorted(p.name for p in uploads.iterdir()) == ["broken.pdf", "kept.txt", "restored.txt"]
    again = recover_uploads(settings, embedder)  # idempotent: nothing new to do
    assert again.indexed == [] and list(again.failed) == ["broken.pdf"]
