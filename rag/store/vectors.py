"""Vector indexes behind one Protocol: FAISS for real use, numpy brute force as the reference.

FAISS ids are the chunks' SQLite row ids, so a hit maps straight to its chunk and incremental
add/remove never renumbers anything. Filters are applied *inside* the search (an id selector),
not after truncation, so a narrow filter still gets k results when k exist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import faiss
import numpy as np

from rag.files import atomic_path

HNSW_M = 32  # graph degree: FAISS's usual default, good recall/speed balance for 384-d vectors
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
# One query is well under a millisecond of work on one core; an OpenMP team of threads costs more than
# it saves, and on a busy machine its threads wait for each other: one query over 13,238 vectors took
# a median 0.55 ms on 1 thread and 164 ms on 2 at load 16 (eval/bench/speed.py reports the effect).
# The setting is per calling thread (libgomp) and restored after the query: bulk adds keep every core.
SINGLE_QUERY_THREADS = 1


class VectorIndex(Protocol):
    kind: str

    @property
    def size(self) -> int: ...

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    def remove(self, ids: np.ndarray) -> None: ...

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return (scores, ids) best first; at most k; only ids in `allowed` when given."""
        ...


class NumpyVectorIndex:
    """Exact inner product by brute force: the reference the FAISS index is tested against."""

    kind = "numpy"

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._ids = np.zeros(0, dtype=np.int64)
        self._vecs = np.zeros((0, dim), dtype=np.float32)

    @property
    def size(self) -> int:
        return len(self._ids)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self._ids = np.concatenate([self._ids, ids.astype(np.int64)])
        self._vecs = np.vstack([self._vecs, vectors.astype(np.float32)])

    def remove(self, ids: np.ndarray) -> None:
        keep = ~np.isin(self._ids, ids)
        self._ids, self._vecs = self._ids[keep], self._vecs[keep]

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        scores = self._vecs @ query.astype(np.float32)
        ids = self._ids
        if allowed is not None:
            mask = np.isin(ids, allowed)
            scores, ids = scores[mask], ids[mask]
        order = np.argsort(-scores, kind="stable")[:k]
        return scores[order], ids[order]


class FaissVectorIndex:
    """IndexIDMap2 over IndexFlatIP (exact) or IndexHNSWFlat (approximate, for large collections)."""

    def __init__(self, index: faiss.Index, kind: str) -> None:
        self._index = index
        self.kind = kind

    @classmethod
    def create(cls, dim: int, kind: str = "flat") -> FaissVectorIndex:
        if kind == "flat":
            inner: faiss.Index = faiss.IndexFlatIP(dim)
        elif kind == "hnsw":
            inner = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            inner.hnsw.efSearch = HNSW_EF_SEARCH
        else:
            raise ValueError(f"Unknown vector index kind {kind!r}: use 'flat' or 'hnsw'.")
        return cls(faiss.IndexIDMap2(inner), kind)

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def supports_remove(self) -> bool:
        # HNSW graphs cannot drop nodes; the writer rebuilds them from cached vectors instead.
        return self.kind == "flat"

    def ids(self) -> np.ndarray:
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64))

    def remove(self, ids: np.ndarray) -> None:
        if not self.supports_remove:
            raise NotImplementedError("HNSW cannot remove vectors; rebuild the index from stored vectors")
        if len(ids):
            self._index.remove_ids(faiss.IDSelectorBatch(ids.astype(np.int64)))

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        if self.size == 0 or k <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        params = None
        if allowed is not None:
            if len(allowed) == 0:
                return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
            sel = faiss.IDSelectorBatch(allowed.astype(np.int64))
            if self.kind == "hnsw":
                params = faiss.SearchParametersHNSW(sel=sel, efSearch=max(HNSW_EF_SEARCH, k))
            else:
                params = faiss.SearchParameters(sel=sel)
        elif self.kind == "hnsw":
            params = faiss.SearchParametersHNSW(efSearch=max(HNSW_EF_SEARCH, k))
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(SINGLE_QUERY_THREADS)
        try:
            scores, ids = self._index.search(q, min(k, self.size), params=params)
        finally:
            faiss.omp_set_num_threads(threads)
        keep = ids[0] >= 0  # FAISS pads with -1 when fewer than k match
        return scores[0][keep], ids[0][keep]

    def save(self, path: Path) -> None:
        with atomic_path(path) as tmp:
            faiss.write_index(self._index, str(tmp))

    @classmethod
    def load(cls, path: Path, kind: str) -> FaissVectorIndex:
        return cls(faiss.read_index(str(path)), kind)
