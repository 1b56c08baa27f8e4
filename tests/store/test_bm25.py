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
