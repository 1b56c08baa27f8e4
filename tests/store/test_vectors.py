import numpy as np
import pytest

from rag.store.vectors import FaissVectorIndex, NumpyVectorIndex


def _data(n: int = 500, dim: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, dim)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return np.arange(1000, 1000 + n, dtype=np.int64), v


def test_flat_matches_numpy_reference_with_filters_and_removal(tmp_path):
    ids, vecs = _data()
    faiss_idx, ref = FaissVectorIndex.create(vecs.shape[1], "flat"), NumpyVectorIndex(vecs.shape[1])
    for idx in (faiss_idx, ref):
        idx.add(ids, vecs)
        idx.remove(ids[:50])
    q = vecs[123]
    allowed = ids[::7]
    for a in (None, allowed):
        fs, fi = faiss_idx.search(q, 10, a)
        rs, ri = ref.search(q, 10, a)
        assert fi.tolist() == ri.tolist()
        np.testing.assert_allclose(fs, rs, rtol=1e-5)
    assert not set(faiss_idx.search(q, 500)[1]) & set(ids[:50])
    assert set(faiss_idx.search(q, 10, allowed)[1]) <= set(allowed)
    faiss_idx.save(tmp_path / "v.faiss")
    again = FaissVectorIndex.load(tmp_path / "v.faiss", "flat")
    assert again.search(q, 5)[1].tolist() == faiss_idx.search(q, 5)[1].tolist()


def test_filter_narrower_than_k_returns_only_allowed():
    ids, vecs = _data(100)
    idx = FaissVectorIndex.create(vecs.shape[1])
    idx.add(ids, vecs)
    scores, got = idx.search(vecs[0], 10, ids[[3, 4]])
    assert sorted(got.tolist()) == sorted(ids[[3, 4]].tolist())
    assert len(idx.search(vecs[0], 10, np.zeros(0, dtype=np.int64))[1]) == 0


def test_hnsw_recall_against_exact():
    ids, vecs = _data(2000, 48, seed=1)
    exact, approx = FaissVectorIndex.create(48, "flat"), FaissVectorIndex.create(48, "hnsw")
    exact.add(ids, vecs)
    approx.add(ids, vecs)
    recall = np.mean([
        len(set(exact.search(vecs[i], 10)[1]) & set(approx.search(vecs[i], 10)[1])) / 10 for i in range(0, 2000, 40)
    ])
    assert recall >= 0.95
    with pytest.raises(NotImplementedError):
        approx.remove(ids[:1])
