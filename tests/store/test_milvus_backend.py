"""The product on a Milvus Lite collection: same answers as the local backend, `rag serve` / `rag ask`
unchanged, and a second process on the same Lite file gets advice instead of corrupting it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from rag.service.assistant import Assistant
from rag.pipeline.indexer import index_paths
from rag.settings import Settings
from rag.store.collection import Collection
from rag.store.milvus import filter_expression, glob_to_like
from tests.conftest import REPO, SAMPLE, seeds


@pytest.fixture(scope="module")
def milvus_assistant(assistant, embedder, tmp_path_factory):
    """The session's sample corpus (same files, so the same document and chunk ids) indexed into Milvus Lite."""
    corpus = Path(assistant.snapshot.documents()[0].source).parent
    settings = assistant.settings.model_copy(update={"index_dir": tmp_path_factory.mktemp("milvus-idx"), "store": "milvus"})
    report = index_paths([corpus], settings, embedder=embedder)
    assert report.manifest is not None and report.manifest.store == "milvus"
    a = Assistant(settings, embedder=embedder)
    yield a
    a.close()


def test_same_hits_and_scores_as_local(assistant, milvus_assistant):
    with milvus_assistant.collection.open_snapshot() as snap:
        assert snap.check() == []
        assert snap.manifest.store == "milvus" and snap.size == assistant.snapshot.size
    for q in seeds():
        local = assistant.search(q["question"], 10).hits
        remote = milvus_assistant.search(q["question"], 10).hits
        assert [h.passage.chunk_id for h in remote] == [h.passage.chunk_id for h in local], q["id"]
        for lh, rh in zip(local, remote):
            assert rh.dense_score == pytest.approx(lh.dense_score, abs=1e-4)
            assert (rh.bm25_score is None) == (lh.bm25_score is None)
            if lh.bm25_score is not None:
                assert rh.bm25_score == pytest.approx(lh.bm25_score, rel=1e-3)


def test_the_sentence_list_ranks_alike_on_milvus(assistant, milvus_assistant):
    """The optional sentence list reads sentences from SQLite for both backends: same ranks and scores."""
    from rag.retrieve.hybrid import HybridRetriever

    def search(a: Assistant, q: str):  # noqa: ANN202
        settings = a.settings.model_copy(update={"sentence_weight": 0.8})
        return HybridRetriever(a.snapshot, a.embedder, settings).search(q, 10).hits

    for q in seeds():
        local, remote = search(assistant, q["question"]), search(milvus_assistant, q["question"])
        assert [h.passage.chunk_id for h in remote] == [h.passage.chunk_id for h in local], q["id"]
        assert any(h.sentence_score is not None for h in local)
        for lh, rh in zip(local, remote):
            assert (rh.sentence_score is None) == (lh.sentence_score is None)
            if lh.sentence_score is not None:
                assert rh.sentence_score == pytest.approx(lh.sentence_score, abs=1e-6)


def test_same_seed_answers_as_local(assistant, milvus_assistant):
    for q in seeds():
        local, remote = assistant.ask(q["question"]), milvus_assistant.ask(q["question"])
        assert (remote.refused, remote.answer) == (local.refused, local.answer), q["id"]
        assert [c.quote for c in remote.citations] == [c.quote for c in local.citations]


def test_incremental_delete_and_rebuild_on_milvus(milvus_assistant, embedder, tmp_path):
    settings = milvus_assistant.settings.model_copy(update={"index_dir": tmp_path, "collection": "inc"})
    corpus = tmp_path / "docs"
    corpus.mkdir()
    files = sorted(SAMPLE.iterdir())
    for f in files[:2]:
        (corpus / f.name).write_bytes(f.read_bytes())
    first = index_paths([corpus], settings, embedder=embedder)
    (corpus / files[2].name).write_bytes(files[2].read_bytes())
    (corpus / files[0].name).unlink()
    second = index_paths([corpus], settings, embedder=embedder)
    assert second.documents_removed > 0 and second.documents_added > 0 and second.chunks_embedded == second.chunks_added
    with Collection(settings.collection_dir).open_snapshot() as snap:
        assert snap.check() == [] and snap.generation == 2
        ids_before = set(snap.index.ids().tolist())
    physical = second.manifest.store_collection
    rebuilt = index_paths([corpus], settings, embedder=embedder, rebuild=True)
    assert rebuilt.manifest.store_collection != physical
    with Collection(settings.collection_dir).open_snapshot() as snap:
        assert snap.check() == [] and snap.manifest.chunks == second.manifest.chunks
        assert len(snap.index.ids()) == len(ids_before)
    from rag.store.milvus import client_for  # noqa: PLC0415

    client = client_for(str(tmp_path / "milvus.db"))
    assert not client.has_collection(physical), "the rebuilt-over collection is dropped"
    assert client.describe_alias("rag_inc")["collection_name"] == rebuilt.manifest.store_collection
    assert first.manifest.store_collection == physical


def test_refuses_to_mix_backends(sample_settings, embedder):
    from rag.store.manifest import IncompatibleIndex  # noqa: PLC0415

    with pytest.raises(IncompatibleIndex, match="--rebuild"):
        index_paths([SAMPLE], sample_settings.model_copy(update={"store": "milvus"}), embedder=embedder)


class _NoSources:
    def sources_matching(self, glob: str) -> list[str]:
        return [] if "no?thing" in glob else ["/a/b_c.txt", '/a/"quoted".txt']

    def row_ids_where(self, filters):  # noqa: ANN001, ANN201 - unused by the Milvus translation
        raise AssertionError("Milvus filters must not fall back to row ids")


def test_filter_translation():
    from rag.models import SearchFilters  # noqa: PLC0415

    assert glob_to_like("*2024*.txt") == "%2024%.txt"
    assert glob_to_like("*a_b*") is None and glob_to_like("*a?b*") is None and glob_to_like("*100%*") is None
    lookup = _NoSources()
    assert filter_expression(None, lookup) == ""
    assert filter_expression(SearchFilters(source_glob="no?thing"), lookup) is None
    expr = filter_expression(SearchFilters(since="2024-05-01", until="2024-05-31T00:00", source_glob="b_c"), lookup)
    assert expr == ('(date != "" and date >= "2024-05-01" and day <= "2024-05-31") and '
                    'source in ["/a/b_c.txt", "/a/\\"quoted\\".txt"]')
    assert filter_expression(SearchFilters(since="2024-05-01", include_undated=True), lookup) == (
        '(date == "" or (date != "" and date >= "2024-05-01"))')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rag(args: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rag", *args], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.slow
def test_serve_and_ask_on_milvus_lite_and_one_process_per_file(tmp_path):
    env = {**os.environ, "RAG_INDEX_DIR": str(tmp_path / "idx"), "RAG_COLLECTION": "lite", "RAG_STORE": "milvus",
           "PYTHONPATH": str(REPO)}
    built = _rag(["index", str(SAMPLE), "--no-progress"], env)
    assert built.returncode == 0, built.stdout + built.stderr
    assert (tmp_path / "idx" / "milvus.db").exists()
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "rag", "serve", "--port", str(port), "--log-level", "warning"],
                              env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 180
        while time.time() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stdout.read()
            time.sleep(0.5)
        q = seeds()[0]["question"]
        answer = httpx.post(f"{url}/v1/ask", json={"question": q}, timeout=120).json()
        assert not answer["refused"] and answer["citations"], answer
        hits = httpx.get(f"{url}/v1/search", params={"q": q, "since": "2024-01-01"}, timeout=60).json()["hits"]
        assert hits and all(h["passage"]["date"] >= "2024-01-01" for h in hits)
        # A second process on the same Lite file: a clear error with advice, and nothing changes.
        busy = _rag(["index", str(SAMPLE), "--no-progress"], env)
        assert busy.returncode != 0
        assert "one process per file" in busy.stderr + busy.stdout, busy.stderr + busy.stdout
        assert httpx.post(f"{url}/v1/ask", json={"question": q}, timeout=120).json()["answer"] == answer["answer"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    asked = _rag(["ask", q, "--json"], env)
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout)["answer"] == answer["answer"]


def test_new_collection_default_is_local(tmp_path):
    assert Settings(index_dir=tmp_path).store == "local"
