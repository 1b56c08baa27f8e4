"""Lazy sentence vectors (RAG_SENTENCE_VECTORS=lazy): the same vectors as an eager index, bit for bit,
encoded once and then read from the collection's cache, without changing any generation."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from rag.embed.factory import make_encoder
from rag.pipeline.indexer import index_paths
from rag.settings import Settings
from rag.store.collection import Collection
from rag.store.sentence_cache import LazySentences
from tests.conftest import SAMPLE


def _build(root: Path, mode: str, embedder) -> Settings:  # noqa: ANN001
    settings = Settings(index_dir=root, collection="s", sentence_vectors=mode)
    index_paths([SAMPLE], settings, embedder=embedder)
    return settings


@pytest.fixture(scope="module")
def built(tmp_path_factory, embedder) -> tuple[Settings, Settings]:  # noqa: ANN001
    root = tmp_path_factory.mktemp("lazy")
    return _build(root / "eager", "eager", embedder), _build(root / "lazy", "lazy", embedder)


def _count_embeddings(settings: Settings) -> int:
    conn = sqlite3.connect(str(settings.collection_dir / "rag.sqlite"))
    try:
        return int(conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0])
    finally:
        conn.close()


def test_settings_accept_the_modes_and_the_old_booleans() -> None:
    assert Settings().sentence_vector_mode == "lazy"
    for value, mode in (("eager", "eager"), ("lazy", "lazy"), ("off", "off"), (True, "eager"), (False, "off"),
                        ("1", "eager"), ("0", "off"), ("true", "eager")):
        assert Settings(sentence_vectors=value).sentence_vector_mode == mode, value
    assert Settings().model_copy(update={"sentence_vectors": False}).sentence_vector_mode == "off"


def test_a_lazy_index_embeds_no_sentence(built) -> None:  # noqa: ANN001
    eager, lazy = built
    e, z = Collection(eager.collection_dir).manifest(), Collection(lazy.collection_dir).manifest()
    assert e.sentence_vectors and not z.sentence_vectors and e.chunks == z.chunks
    assert _count_embeddings(lazy) == z.chunks  # chunk vectors only (no two sample chunks share a text)


def test_lazy_vectors_equal_the_eager_ones_bit_for_bit_and_are_kept(built) -> None:  # noqa: ANN001
    eager, lazy = built
    with Collection(eager.collection_dir).open_snapshot() as snap:
        rows = snap.index.ids().tolist()
        want = snap.sentences(rows)
    before = _count_embeddings(lazy)
    with Collection(lazy.collection_dir).open_snapshot() as snap:
        generation = snap.generation
        # The query encoder a question uses, as the Assistant makes it from the manifest.
        query_encoder = make_encoder(lazy, "query", snap.manifest)
        assert not snap.has_sentence_vectors and snap.sentences(rows) == {}
        assert snap.use_lazy_sentences(query_encoder) and snap.has_sentence_vectors
        got = snap.sentences(rows)
        assert snap.check() == []
        lazy_cache = snap._lazy
        assert isinstance(lazy_cache, LazySentences)
        assert lazy_cache.encoded > 0 and lazy_cache.stored == lazy_cache.encoded
        again = snap.sentences(rows[:5])  # the same snapshot reads what it stored, encodes nothing
        assert lazy_cache.encoded == lazy_cache.stored
    assert set(got) == set(want) == set(rows)
    for r in rows:
        assert got[r].doc_id == want[r].doc_id and got[r].spans == want[r].spans
        assert np.array_equal(got[r].vectors, want[r].vectors), r
    for r in rows[:5]:
        assert np.array_equal(again[r].vectors, want[r].vectors)
    assert _count_embeddings(lazy) == before + lazy_cache.stored
    collection = Collection(lazy.collection_dir)
    assert collection.generation() == generation  # kept in the cache: no new generation, same manifest
    with collection.open_snapshot() as snap:  # a later snapshot (another process) reads them, encodes none
        snap.use_lazy_sentences(query_encoder)
        later = snap.sentences(rows)
        assert snap._lazy is not None and snap._lazy.encoded == 0
    assert all(np.array_equal(later[r].vectors, want[r].vectors) for r in rows)


def test_a_held_write_lock_costs_the_cache_not_the_answer(tmp_path: Path, embedder) -> None:  # noqa: ANN001
    settings = _build(tmp_path, "lazy", embedder)
    blocker = sqlite3.connect(str(settings.collection_dir / "rag.sqlite"), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # an index run in its commit
    try:
        with Collection(settings.collection_dir).open_snapshot() as snap:
            snap.use_lazy_sentences(embedder)
            rows = snap.index.ids().tolist()[:3]
            got = snap.sentences(rows)
            assert set(got) == set(rows) and all(len(cs.vectors) == len(cs.spans) > 0 for cs in got.values())
            assert snap._lazy is not None and snap._lazy.encoded > 0 and snap._lazy.stored == 0
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


def test_an_encoder_of_another_family_is_not_used(built, onnx_encoder) -> None:  # noqa: ANN001
    _, lazy = built
    with Collection(lazy.collection_dir).open_snapshot() as snap:
        assert not snap.use_lazy_sentences(onnx_encoder)  # fp32 vectors never enter an int8-all cache
        assert snap.sentences(snap.index.ids().tolist()[:2]) == {}


class _CountingEncoder:
    """The real query encoder, counting every text it encodes."""

    def __init__(self, inner) -> None:  # noqa: ANN001
        self.inner, self.identity, self.dim = inner, inner.identity, inner.dim
        self.texts: list[str] = []

    def encode(self, texts: list[str], *args, **kwargs) -> np.ndarray:  # noqa: ANN002, ANN003
        self.texts.extend(texts)
        return self.inner.encode(texts, *args, **kwargs)

    def encode_query(self, text: str) -> np.ndarray:
        self.texts.append(text)
        return self.inner.encode_query(text)


QUESTIONS = [
    "Who chaired the Yangpu district committee and district government quarterly work meeting?",
    "How many exhibitors took part in the Old Expo?",
    "How much did Merck Group agree to invest in Shanghai at the meeting with Chen Jining?",  # refused
]


def test_a_lazy_assistant_answers_as_the_eager_one_and_encodes_a_sentence_once(built, embedder) -> None:  # noqa: ANN001
    from rag.models import AskRequest
    from rag.service.assistant import Assistant

    eager, lazy = built
    counting = _CountingEncoder(make_encoder(lazy, "query", Collection(lazy.collection_dir).manifest()))
    a, z = Assistant(eager, embedder=embedder), Assistant(lazy, embedder=counting)
    try:
        for q in QUESTIONS:
            want = a.ask(AskRequest(question=q, mode="extractive"))
            got = z.ask(AskRequest(question=q, mode="extractive"))
            assert (got.answer, got.refused) == (want.answer, want.refused), q
            assert [(c.quote, c.start, c.end, c.verified) for c in got.citations] == \
                   [(c.quote, c.start, c.end, c.verified) for c in want.citations], q
            counting.texts.clear()
            z.ask(AskRequest(question=q, mode="extractive"))
            assert counting.texts == [q]  # the second time every sentence vector comes from the cache
    finally:
        a.close()
        z.close()
