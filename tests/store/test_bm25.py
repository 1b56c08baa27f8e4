import numpy as np

from rag.store.bm25 import BM25Index

TEXTS = [
    "Shanghai opened 1,215 new first-office stores last year",
    "The humanoid robot innovation center was unveiled in Shanghai",
    "Consumption vouchers were issued to residents of Pudong",
]


def test_bm25_ranks_matching_text_first_and_respects_filter(tmp_path):
    ids = np.array([10, 20, 30], dtype=np.int64)
    idx = BM25Index.build(ids, TEXTS)
    scores, got = idx.search("humanoid robots", 3)
    assert got[0] == 20 and scores[0] > 0
    assert 10 not in got  # no shared term: zero scores are not returned as matches
    scores, got = idx.search("Shanghai", 3, allowed=np.array([20], dtype=np.int64))
    assert got.tolist() == [20]
    idx.save(tmp_path / "bm25")
    again = BM25Index.load(tmp_path / "bm25")
    assert again.search("vouchers Pudong", 2)[1].tolist() == [30]


def test_empty_index_and_stopword_query():
    empty = BM25Index.build(np.zeros(0, dtype=np.int64), [])
    assert len(empty.search("anything", 5)[1]) == 0
    idx = BM25Index.build(np.array([1], dtype=np.int64), ["a real sentence"])
    assert len(idx.search("the of and", 5)[1]) == 0


def test_fast_scoring_equals_bm25s_retrieve():
    """BM25Index sums bm25s's per-term scores itself (one bincount, top-k over matches only): same
    chunks and scores as bm25s's own retrieve, with and without an id filter."""
    import bm25s

    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(300)]
    texts = [" ".join(rng.choice(words, size=rng.integers(5, 40), p=None)) for _ in range(2000)]
    ids = np.arange(10, 2010, dtype=np.int64)
    idx = BM25Index.build(ids, texts)
    retriever = idx._retriever  # noqa: SLF001 - the reference is bm25s itself
    allowed = ids[::3]
    for q in ["w1 w2 w3", "w7", "w250 w251 w252 w7 w7", "nothing"]:
        tokens = idx.tokenize([q])
        for mask_ids in (None, allowed):
            scores, found = idx.search(q, 20, mask_ids)
            if not tokens[0] or not retriever.get_tokens_ids(tokens[0]):
                assert len(found) == 0
                continue
            mask = None if mask_ids is None else np.isin(ids, mask_ids).astype(np.float32)
            docs, ref = retriever.retrieve(tokens, k=20, show_progress=False, weight_mask=mask, n_threads=1)
            keep = ref[0] > 0
            ref_ids, ref_scores = ids[docs[0][keep]], ref[0][keep]
            assert np.allclose(np.sort(scores), np.sort(ref_scores), atol=1e-4)
            cut = ref_scores.min() + 1e-4  # equal scores at the k-th place may be cut differently
            assert set(found[scores > cut].tolist()) == set(ref_ids[ref_scores > cut].tolist())


def test_query_terms_equal_bm25s_tokenize_on_real_text():
    """The per-question fast path splits, filters and stems exactly like bm25s.tokenize: every SciFact
    claim and sample-corpus line, under every stemming / stop-word setting, plus edge cases."""
    import json

    from rag.store.bm25 import Bm25Params
    from tests.conftest import SHARED

    claims = SHARED / "eval" / "scifact" / "queries.jsonl"
    corpus = SHARED / "corpus" / "shanghai"
    assert claims.is_file(), f"missing {claims}"
    assert corpus.is_dir(), f"missing {corpus}"
    texts = [json.loads(line)["text"] for line in claims.read_text(encoding="utf-8").splitlines()]
    for path in sorted(corpus.rglob("*"))[:20]:
        if path.is_file():
            texts += path.read_text(encoding="utf-8", errors="replace").splitlines()[:200]
    texts += ["", "the of and", "Ünïcödé naïve café 12 1,215 e-mail U.S.", "A I x", "running RUNS ran"]
    for stem in (True, False):
        for stopwords in (True, False):
            idx = BM25Index(None, np.zeros(0, dtype=np.int64), Bm25Params(stem=stem, stopwords=stopwords))
            want = idx.tokenize(texts)
            assert [idx.query_terms(t) for t in texts] == want
