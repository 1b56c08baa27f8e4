"""BM25 over chunk texts with bm25s (sparse-matrix BM25, fast to build and query).

bm25s has no in-place update, so each generation re-indexes the stored chunk texts. That is the
cheap half of indexing (about a second for SciFact's 5k abstracts); the expensive half, embedding,
is incremental. Positions in the bm25s index map to chunk row ids through `row_ids.npy`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

ROW_IDS_FILE = "row_ids.npy"
BM25_K1 = 1.5  # bm25s's defaults, stated so other backends (Milvus) score with the same parameters
BM25_B = 0.75


def _tokenize(texts: list[str], stemmer: Stemmer.Stemmer) -> list[list[str]]:
    return bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False)


def keyword_terms(texts: list[str]) -> list[list[str]]:
    """The terms BM25 indexes and queries with (English stop words out, Snowball stems): every
    backend analyses text with this one function, so keyword search ranks the same on each."""
    return _tokenize(texts, Stemmer.Stemmer("english"))


class BM25Index:
    def __init__(self, retriever: bm25s.BM25 | None, row_ids: np.ndarray) -> None:
        self._retriever = retriever
        self._row_ids = row_ids.astype(np.int64)
        self._stemmer = Stemmer.Stemmer("english")

    @classmethod
    def build(cls, row_ids: np.ndarray, texts: list[str]) -> BM25Index:
        if not texts:
            return cls(None, np.zeros(0, dtype=np.int64))
        stemmer = Stemmer.Stemmer("english")
        retriever = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        retriever.index(_tokenize(texts, stemmer), show_progress=False)
        return cls(retriever, row_ids)

    @property
    def row_ids(self) -> np.ndarray:
        return self._row_ids

    @property
    def size(self) -> int:
        return len(self._row_ids)

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        empty = (np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64))
        if self._retriever is None or k <= 0:
            return empty
        tokens = _tokenize([query], self._stemmer)
        if not tokens[0]:
            return empty
        mask = None
        if allowed is not None:
            mask = np.isin(self._row_ids, allowed).astype(np.float32)
            if not mask.any():
                return empty
        docs, scores = self._retriever.retrieve(
            tokens, k=min(k, self.size), show_progress=False, weight_mask=mask, n_threads=1
        )
        docs, scores = docs[0], scores[0]
        keep = scores > 0  # bm25s returns zero-score (non-matching or masked) docs to fill k
        return scores[keep].astype(np.float32), self._row_ids[docs[keep]]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / ROW_IDS_FILE, self._row_ids)
        if self._retriever is not None:
            self._retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        row_ids = np.load(folder / ROW_IDS_FILE)
        if len(row_ids) == 0:
            return cls(None, row_ids)
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        retriever = bm25s.BM25.load(str(folder), load_corpus=False, show_progress=False)
        return cls(retriever, row_ids)
