"""The contract every store backend passes (modelled on Haystack's `haystack/testing/document_store.py`).

A backend's test module subclasses `StoreContractTests` and provides one fixture, `store_settings`:
Settings for a fresh, empty collection using that backend. The tests drive the real `Collection`
(SQLite + the backend) with small synthetic documents and vectors, so they need no embedding model
and run in seconds. Same inputs, same observable behaviour: add, replace, delete, filters applied
inside the search, ids stable across generations, counts consistent, a crash between two writes
leaving the previous state readable, readers keeping their generation, and keyword/dense scores
equal to the reference implementations (bm25s, exact inner product).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from rag.models import Article, Chunk, SearchFilters, sha256_hex
from rag.settings import Settings
from rag.store.bm25 import BM25Index
from rag.store.collection import Collection
from rag.store.faults import SimulatedCrash
from rag.store.manifest import Manifest
from rag.store.snapshot import Snapshot

DIM = 16


@dataclass
class Doc:
    article: Article
    chunks: list[Chunk]
    vectors: np.ndarray

    @property
    def doc_id(self) -> str:
        return self.article.doc_id


def make_doc(name: str, texts: list[str], *, date: str | None = None, source: str | None = None,
             vectors: np.ndarray | None = None, seed: int = 0) -> Doc:
    """A document whose chunks are `texts` (one chunk each), with unit vectors (random unless given)."""
    body = " ".join(texts)
    article = Article(source=source or f"/corpus/{name}.txt", text=body, title=name, date=date)
    chunks, pos = [], 0
    for i, t in enumerate(texts):
        chunks.append(Chunk(doc_id=article.doc_id, ordinal=i, text=t, start=pos, end=pos + len(t), n_tokens=len(t.split())))
        pos += len(t) + 1
    if vectors is None:
        vectors = np.random.default_rng(seed).normal(size=(len(texts), DIM))
    vectors = np.asarray(vectors, dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return Doc(article, chunks, vectors)


class Harness:
    """Writes synthetic documents through the real Collection writer."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.collection = Collection(settings.collection_dir, settings)

    def commit(self, add: list[Doc] = (), remove: list[Doc] = (), kind: str = "flat") -> Manifest:  # type: ignore[assignment]
        with self.collection.writer() as w:
            manifest = w.current_manifest() or Manifest(
                model="contract-test", dim=DIM, chunk_tokens=0, chunk_overlap_tokens=0, title_prefix=False,
                fingerprint="contract-test",
            )
            new_vectors: dict[str, np.ndarray] = {}
            staged = []
            for d in add:
                keys = [sha256_hex(d.doc_id, c.text) for c in d.chunks]
                new_vectors.update(zip(keys, d.vectors))
                staged.append((d.article, d.chunks, keys))
            return w.commit(manifest, [d.doc_id for d in remove], staged, new_vectors, kind)

    def snapshot(self) -> Snapshot:
        return self.collection.open_snapshot()


def chunk_ids(snap: Snapshot, ids: np.ndarray) -> list[str]:
    found = snap.passages([int(i) for i in ids])
    return [found[int(i)].chunk_id for i in ids]


def doc_rows(snap: Snapshot, doc: Doc) -> set[int]:
    wanted = {c.chunk_id for c in doc.chunks}
    return {int(i) for i in snap.index.ids() if snap.passage(int(i)).chunk_id in wanted}


def _filtered_corpus() -> tuple[np.ndarray, list[Doc], Doc, Doc]:
    """20 decoys that outrank the target on both lists unfiltered; the target and an undated doc
    pass the filters. Returns (query vector, decoys, target, undated)."""
    rng = np.random.default_rng(7)
    q = rng.normal(size=DIM)
    q /= np.linalg.norm(q)
    decoys = [
        make_doc(f"decoy {i}", [f"robot robot robot arm decoy{i}"], date=f"2023-01-{i + 1:02d}",
                 source=f"/corpus/old/decoy-{i}.txt", vectors=(q + 0.05 * rng.normal(size=DIM))[None])
        for i in range(20)
    ]
    target = make_doc("target", ["a robot among many words about other things entirely"], date="2024-05-10T09:00:00",
                      source="/corpus/keep_me/target [v2].txt", vectors=rng.normal(size=(1, DIM)))
    undated = make_doc("undated", ["one robot with no date at all in this text"], source="/corpus/misc/undated.txt",
                       vectors=rng.normal(size=(1, DIM)))
    return q.astype(np.float32), decoys, target, undated


class StoreContractTests:
    """Subclass and provide a `store_settings` fixture (a fresh empty collection per test)."""

    @pytest.fixture
    def harness(self, store_settings: Settings) -> Harness:
        return Harness(store_settings)

    # ------------------------------------------------------------------ add and count
    def test_add_then_counts_and_ids_agree(self, harness: Harness) -> None:
        docs = [make_doc(f"doc {i}", [f"alpha{i} first part", f"alpha{i} second part"], seed=i) for i in range(3)]
        m = harness.commit(add=docs)
        assert (m.documents, m.chunks, m.generation) == (3, 6, 1)
        with harness.snapshot() as snap:
            assert snap.manifest.store == harness.settings.store
            assert snap.check() == []
            assert snap.size == 6 and len(snap.index.ids()) == 6

    def test_dense_finds_each_chunk_by_its_own_vector(self, harness: Harness) -> None:
        docs = [make_doc(f"doc {i}", [f"text {i} a", f"text {i} b"], seed=i) for i in range(4)]
        harness.commit(add=docs)
        with harness.snapshot() as snap:
            for d in docs:
                for chunk, vec in zip(d.chunks, d.vectors):
                    hits = snap.index.dense(vec, 3)
                    assert chunk_ids(snap, hits.ids[:1]) == [chunk.chunk_id]
                    assert hits.scores[0] == pytest.approx(1.0, abs=1e-4)
                    assert list(hits.scores) == sorted(hits.scores, reverse=True)

    def test_dense_scores_are_inner_products(self, harness: Harness) -> None:
        docs = [make_doc(f"doc {i}", [f"text {i}"], seed=i) for i in range(5)]
        harness.commit(add=docs)
        q = docs[0].vectors[0]
        with harness.snapshot() as snap:
            ids = [int(i) for i in snap.index.ids()]
            scores = snap.index.dense_scores(q, ids)
            by_chunk = {snap.passage(i).chunk_id: s for i, s in scores.items()}
            for d in docs:
                assert by_chunk[d.chunks[0].chunk_id] == pytest.approx(float(d.vectors[0] @ q), abs=1e-4)

    def test_keyword_ranks_and_scores_like_bm25s(self, harness: Harness) -> None:
        texts = ["robots assemble cars in the factory", "a robot arm", "cats sleep all day", "robotic arms and robots",
                 "the factory of the future", "arms race"]
        docs = [make_doc(f"t{i}", [t], seed=i) for i, t in enumerate(texts)]
        harness.commit(add=docs)
        with harness.snapshot() as snap:
            row_ids = np.array(sorted(int(i) for i in snap.index.ids()), dtype=np.int64)
            passages = snap.passages(row_ids.tolist())
            reference = BM25Index.build(row_ids, [f"{passages[int(r)].title}\n{passages[int(r)].text}" for r in row_ids])
            for query in ["robot arms", "factory", "cats", "robots in the factory"]:
                got = snap.index.keyword(query, 10)
                ref_scores, ref_ids = reference.search(query, 10)
                got_d, ref_d = dict(zip(got.ids.tolist(), got.scores.tolist())), dict(zip(ref_ids.tolist(), ref_scores.tolist()))
                assert set(got_d) == set(ref_d), query
                assert all(got_d[i] == pytest.approx(ref_d[i], rel=1e-3) for i in ref_d), (query, got_d, ref_d)
                assert list(got.scores) == sorted(got.scores, reverse=True)
            assert len(snap.index.keyword("zebra", 10)) == 0
            assert len(snap.index.keyword("the of and", 10)) == 0  # stop words only

    # ------------------------------------------------------------------ replace and delete
    def test_replace_keeps_untouched_ids_and_swaps_the_document(self, harness: Harness) -> None:
        a, b = make_doc("a", ["apple one", "apple two"], seed=1), make_doc("b", ["banana"], seed=2)
        harness.commit(add=[a, b])
        with harness.snapshot() as snap:
            b_rows = doc_rows(snap, b)
        a2 = make_doc("a", ["avocado one"], seed=3)
        m = harness.commit(add=[a2], remove=[a])
        assert (m.documents, m.chunks, m.generation) == (2, 2, 2)
        with harness.snapshot() as snap:
            assert snap.check() == []
            assert doc_rows(snap, b) == b_rows  # ids stable across generations
            assert len(snap.index.keyword("apple", 5)) == 0
            assert chunk_ids(snap, snap.index.keyword("avocado", 5).ids) == [a2.chunks[0].chunk_id]
            assert chunk_ids(snap, snap.index.dense(a2.vectors[0], 1).ids) == [a2.chunks[0].chunk_id]
            assert not set(chunk_ids(snap, snap.index.dense(a.vectors[0], 5).ids)) & {c.chunk_id for c in a.chunks}

    def test_delete_everything_leaves_an_empty_searchable_generation(self, harness: Harness) -> None:
        docs = [make_doc(f"d{i}", [f"word{i}"], seed=i) for i in range(3)]
        harness.commit(add=docs)
        m = harness.commit(remove=docs[:1])
        assert (m.documents, m.chunks) == (2, 2)
        m = harness.commit(remove=docs[1:])
        assert (m.documents, m.chunks) == (0, 0)
        with harness.snapshot() as snap:
            assert snap.check() == [] and snap.size == 0
            assert len(snap.index.dense(docs[0].vectors[0], 5)) == 0
            assert len(snap.index.keyword("word1", 5)) == 0

    # ------------------------------------------------------------------ filters inside the search
    def test_filters_apply_inside_the_search(self, harness: Harness) -> None:
        q, decoys, target, undated = _filtered_corpus()
        harness.commit(add=[*decoys, target, undated])
        t, u = target.chunks[0].chunk_id, undated.chunks[0].chunk_id
        with harness.snapshot() as snap:
            assert t not in chunk_ids(snap, snap.index.dense(q, 3).ids)  # unfiltered, the decoys win
            assert t not in chunk_ids(snap, snap.index.keyword("robot", 3).ids)
            cases = {
                "since": (SearchFilters(since="2024-05-01"), {t}),
                "until a day (timestamp on that day passes)": (SearchFilters(since="2024-01-01", until="2024-05-10"), {t}),
                "until excludes later": (SearchFilters(since="2024-01-01", until="2024-05-09"), set()),
                "undated kept when asked": (SearchFilters(since="2024-05-01", include_undated=True), {t, u}),
                "glob with *": (SearchFilters(source_glob="*/target*"), {t}),
                "substring": (SearchFilters(source_glob="misc/"), {u}),
                "glob with _ (literal in GLOB)": (SearchFilters(source_glob="*keep_me*"), {t}),
                "glob with ?": (SearchFilters(source_glob="/corpus/keep?me/*"), {t}),
                "glob with a class": (SearchFilters(source_glob="/corpus/[km]isc/*"), {u}),
                "glob matching nothing": (SearchFilters(source_glob="/nowhere/*"), set()),
                "date and source": (SearchFilters(since="2023-01-01", source_glob="*keep*"), {t}),
            }
            everything_dense = snap.index.dense(q, 100)
            everything_kw = snap.index.keyword("robot", 100)
            unfiltered = {"dense": dict(zip(everything_dense.ids.tolist(), everything_dense.scores.tolist())),
                          "keyword": dict(zip(everything_kw.ids.tolist(), everything_kw.scores.tolist()))}
            for name, (filters, expected) in cases.items():
                for kind, found in (("dense", snap.index.dense(q, 3, filters)),
                                    ("keyword", snap.index.keyword("robot", 3, filters))):
                    assert set(chunk_ids(snap, found.ids)) == expected, f"{kind}, {name}"
                    for i, score in zip(found.ids.tolist(), found.scores.tolist()):  # a filter never rescores
                        assert score == pytest.approx(unfiltered[kind][i], rel=1e-4), f"{kind} score, {name}"
            # A filter passing 20 decoys still gets k of them, best first.
            old = SearchFilters(until="2023-12-31")
            assert len(snap.index.dense(q, 5, old)) == 5 and len(snap.index.keyword("robot", 5, old)) == 5

    def test_glob_is_case_sensitive_and_exact(self, harness: Harness) -> None:
        a = make_doc("a", ["some robot"], source="/corpus/Report_2024%.txt", seed=1)
        b = make_doc("b", ["other robot"], source="/corpus/reportX2024.txt", seed=2)
        harness.commit(add=[a, b])
        with harness.snapshot() as snap:
            for glob, expected in [("*Report_2024%*", [a]), ("*report*", [b]), ("*Report?2024*", [a]), ("*_2024*", [a])]:
                got = set(chunk_ids(snap, snap.index.keyword("robot", 5, SearchFilters(source_glob=glob)).ids))
                assert got == {d.chunks[0].chunk_id for d in expected}, glob

    # ------------------------------------------------------------------ generations and crashes
    def test_reader_keeps_its_generation_while_a_writer_commits(self, harness: Harness) -> None:
        a, b = make_doc("a", ["apple"], seed=1), make_doc("b", ["banana"], seed=2)
        harness.commit(add=[a, b])
        old = harness.snapshot()
        try:
            harness.commit(add=[make_doc("c", ["cherry"], seed=3)], remove=[a])
            assert old.size == 2 and old.check() == []
            assert chunk_ids(old, old.index.keyword("apple", 5).ids) == [a.chunks[0].chunk_id]
            assert len(old.index.keyword("cherry", 5)) == 0
            with harness.snapshot() as new:
                assert new.size == 2 and new.check() == []
                assert len(new.index.keyword("apple", 5)) == 0 and len(new.index.keyword("cherry", 5)) == 1
        finally:
            old.close()

    @pytest.mark.parametrize("point", ["after_sqlite_changes", "mid_generation_write", "after_generation_written"])
    def test_crash_between_writes_leaves_the_previous_state(
        self, harness: Harness, point: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        a, b = make_doc("a", ["apple one", "apple two"], seed=1), make_doc("b", ["banana"], seed=2)
        harness.commit(add=[a, b])
        with harness.snapshot() as snap:
            before = (snap.generation, sorted(snap.index.ids().tolist()), chunk_ids(snap, snap.index.keyword("apple", 5).ids))
        c = make_doc("c", ["cherry"], seed=3)
        monkeypatch.setenv("RAG_CRASH_AT", point)
        monkeypatch.setenv("RAG_CRASH_MODE", "raise")
        with pytest.raises(SimulatedCrash):
            harness.commit(add=[c], remove=[a])
        monkeypatch.delenv("RAG_CRASH_AT")
        with harness.snapshot() as snap:
            assert snap.check() == []
            after = (snap.generation, sorted(snap.index.ids().tolist()), chunk_ids(snap, snap.index.keyword("apple", 5).ids))
            assert after == before, f"a crash at {point} changed what readers see"
            assert len(snap.index.keyword("cherry", 5)) == 0
        m = harness.commit(add=[c], remove=[a])  # the next writer cleans up and finishes the job
        assert (m.generation, m.documents, m.chunks) == (2, 2, 2)
        with harness.snapshot() as snap:
            assert snap.check() == []
            assert len(snap.index.keyword("apple", 5)) == 0
            assert chunk_ids(snap, snap.index.keyword("cherry", 5).ids) == [c.chunks[0].chunk_id]

    def test_hnsw_kind_finds_the_same_neighbours_on_small_data(self, harness: Harness) -> None:
        docs = [make_doc(f"d{i}", [f"w{i}"], seed=i) for i in range(30)]
        harness.commit(add=docs[:20])
        harness.commit(add=docs[20:], kind="hnsw")  # the automatic switch above the ANN threshold
        with harness.snapshot() as snap:
            assert snap.manifest.vector_index == "hnsw" and snap.check() == []
            for d in docs[::7]:
                assert chunk_ids(snap, snap.index.dense(d.vectors[0], 1).ids) == [d.chunks[0].chunk_id]
