"""The optional sentence list (RAG_SENTENCE_WEIGHT): candidates re-scored by their best stored sentence.

Real model, real FAISS, the session's sample collection (stored sentence vectors).
"""

from __future__ import annotations

from rag.retrieve.fusion import convex
from rag.retrieve.hybrid import HybridRetriever
from rag.store.collection import Collection

QUESTION = "How many exhibitors took part in the Old Expo?"


def _search(settings, embedder, **overrides):  # noqa: ANN001, ANN202
    s = settings.model_copy(update=overrides)
    snap = Collection(s.collection_dir).open_snapshot()
    return snap, HybridRetriever(snap, embedder, s).search(QUESTION, 10)


def test_off_by_default_and_the_ranking_is_the_two_list_one(sample_settings, embedder):
    snap, result = _search(sample_settings, embedder)
    try:
        assert sample_settings.sentence_weight == 0
        assert all(h.sentence_score is None for h in result.hits) and result.sentences == {}
        assert "sentences" not in result.timings_ms
    finally:
        snap.close()


def test_the_third_list_is_each_candidates_best_stored_sentence(sample_settings, embedder):
    base_snap, base = _search(sample_settings, embedder, sentence_weight=0.0)
    snap, result = _search(sample_settings, embedder, sentence_weight=0.8, sentence_depth=5)
    try:
        q = result.query_vector
        scored = [h for h in result.hits if h.sentence_score is not None]
        # exactly the 5 best candidates of the two-list fusion were re-scored, each by its best sentence
        assert {h.passage.row_id for h in scored} == {h.passage.row_id for h in base.hits[:5]}
        stored = snap.sentences([h.passage.row_id for h in scored])
        for h in scored:
            assert h.sentence_score == float((stored[h.passage.row_id].vectors @ q).max())
        # the final scores are the convex fusion of the two lists plus the sentence list
        two = {h.passage.row_id: h.fused_score for h in base.hits}
        sent = sorted(((h.passage.row_id, h.sentence_score) for h in scored), key=lambda kv: -kv[1])
        third = dict(convex([sent], [0.8]))
        for h in result.hits:
            if h.passage.row_id in two:
                assert abs(h.fused_score - two[h.passage.row_id] - third.get(h.passage.row_id, 0.0)) < 1e-9
        # the Old Expo passage (its sentence states the exhibitors) is still first
        assert "400 exhibitors" in result.hits[0].passage.text
        # the answer flow reads the same sentences from the search, not SQLite again
        reads: list[list[int]] = []

        def read(rows: list[int]):  # noqa: ANN202
            reads.append(rows)
            return snap.sentences(rows)

        lookup = result.sentence_lookup(read)
        first = scored[0].passage.row_id
        other = next(h.passage.row_id for h in result.hits if h.sentence_score is None)
        got = lookup([first, other])
        assert reads == [[other]] and set(got) == {first, other}
        assert got[first] is result.sentences[first]
    finally:
        snap.close()
        base_snap.close()


def test_a_collection_without_sentence_vectors_says_the_list_is_off(tmp_path, embedder):
    from rag.pipeline.indexer import index_paths
    from rag.settings import Settings

    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "expo.md").write_text("# Old Expo\n\nThe Old Expo attracted more than 400 exhibitors in 1999.\n")
    settings = Settings(index_dir=tmp_path / "idx", collection="n", sentence_vectors=False)
    index_paths([corpus], settings, embedder=embedder)
    snap, result = _search(settings, embedder, sentence_weight=0.8)
    try:
        assert result.hits and all(h.sentence_score is None for h in result.hits)
        assert any("stores no sentence vectors" in n for n in result.notes)
    finally:
        snap.close()
