"""`rag index --engine ray` (a local Ray on 127.0.0.1, started once for the module) indexes the same
documents, chunks and vectors as the local engine, and keeps the incremental rule."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
import ray

from rag.pipeline.indexer import index_paths
from rag.pipeline.ray_engine import init_local_ray
from rag.store.collection import Collection
from tests.conftest import SAMPLE


@pytest.fixture(scope="module")
def ray_session():
    init_local_ray(num_cpus=2)
    yield
    ray.shutdown()


def _stored(settings) -> tuple[set[str], dict[str, tuple[str, int, int]], dict[str, np.ndarray]]:
    conn = sqlite3.connect(str(Collection(settings.collection_dir).db_path))
    try:
        docs = {r[0] for r in conn.execute("SELECT doc_id FROM documents")}
        chunks = {r[0]: (r[1], r[2], r[3]) for r in conn.execute("SELECT chunk_id, emb_key, start, end FROM chunks")}
        vecs = {k: np.frombuffer(v, dtype=np.float32) for k, v in conn.execute("SELECT key, vector FROM embeddings")}
    finally:
        conn.close()
    return docs, chunks, vecs


@pytest.mark.slow
def test_ray_ingest_matches_local_and_is_incremental(ray_session, sample_settings, embedder, tmp_path):
    with Collection(sample_settings.collection_dir).open_snapshot() as snap:
        corpus = Path(snap.documents()[0].source).parent  # the very files the local index was built from
    # One worker: the test is about equal results; two would load the model twice more on 2 cores.
    settings = sample_settings.model_copy(update={"index_dir": tmp_path / "idx", "collection": "ray", "ray_workers": 1})
    report = index_paths([corpus], settings, embedder=embedder, engine="ray")
    local_docs, local_chunks, local_vecs = _stored(sample_settings)
    docs, chunks, vecs = _stored(settings)
    assert docs == local_docs
    assert chunks == local_chunks  # same chunk ids, spans and embedding keys
    assert report.documents_added == len(local_docs) and report.chunks_added == len(local_chunks)
    assert report.chunks_embedded == len(local_chunks)
    for _, (key, _, _) in chunks.items():
        assert np.allclose(vecs[key], local_vecs[key], atol=1e-3), "Ray workers embed like the local encoder"
    with Collection(settings.collection_dir).open_snapshot() as snap:
        assert snap.check() == []

    again = index_paths([corpus], settings, embedder=embedder, engine="ray")
    assert (again.documents_added, again.documents_removed, again.chunks_embedded) == (0, 0, 0)
    assert again.documents_unchanged == len(local_docs) and again.manifest.generation == report.manifest.generation


def test_unknown_engine_is_refused(sample_settings):
    with pytest.raises(ValueError, match="local, ray"):
        index_paths([SAMPLE], sample_settings, engine="spark")
