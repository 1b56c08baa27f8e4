"""BM25 variants over the collection's chunks: method, k1, b, delta, stemming, stop words, title, PRF.

Full score matrices (queries x chunks) come from bm25s's own scorer, so every variant is the
library's arithmetic, not ours; pseudo-relevance feedback re-weights per-term score vectors.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

import numpy as np

from eval.bench.levers.data import ChunkTable
from rag.store.bm25 import Bm25Params, BM25Index

TITLE_MODES = ("prefix", "none", "twice")


@dataclass(frozen=True)
class Bm25Variant:
    params: Bm25Params = Bm25Params()
    title: str = "prefix"  # "title\ntext" (what the store indexes), text alone, or the title twice

    def label(self) -> str:
        p = self.params
        parts = [f"{p.method} k1={p.k1} b={p.b}"]
        if p.method in ("bm25l", "bm25+"):
            parts.append(f"delta={p.delta}")
        if not p.stem:
            parts.append("no stemming")
        if not p.stopwords:
            parts.append("stop words kept")
        if self.title != "prefix":
            parts.append(f"title {self.title}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Prf:
    """RM3-style feedback: top `docs` chunks, `terms` new terms, mixed in with weight `weight`."""

    docs: int = 10
    terms: int = 10
    weight: float = 0.3


class Bm25Scorer:
    """The product's BM25Index built with a variant's params; whole score vectors from bm25s."""

    def __init__(self, variant: Bm25Variant, chunks: ChunkTable) -> None:
        if variant.title not in TITLE_MODES:
            raise ValueError(f"title must be one of {TITLE_MODES}, got {variant.title!r}")
        self.variant = variant
        texts = [self._doc_text(t, x) for t, x in zip(chunks.titles, chunks.texts)]
        t = time.perf_counter()
        self.index = BM25Index.build(chunks.row_ids, texts, variant.params)
        self.build_s = time.perf_counter() - t
        self.retriever = self.index.retriever
        self.corpus_tokens = self.index.tokenize(texts)  # for feedback term counts (not timed)

    def _doc_text(self, title: str, text: str) -> str:
        if self.variant.title == "none" or not title:
            return text
        return f"{title}\n{title}\n{text}" if self.variant.title == "twice" else f"{title}\n{text}"

    def query_ids(self, text: str) -> list[int]:
        return self.retriever.get_tokens_ids(self.index.tokenize([text])[0])

    def scores(self, text: str) -> np.ndarray:
        ids = self.query_ids(text)
        if not ids:
            return np.zeros(len(self.corpus_tokens), dtype=np.float32)
        return self.retriever.get_scores_from_ids(ids).astype(np.float32)

    def prf_scores(self, text: str, prf: Prf) -> np.ndarray:
        """RM3: p(t|feedback) from the top chunks' term frequencies, weighted by their scores."""
        ids = self.query_ids(text)
        base = self.scores(text)
        if not ids or not base.any():
            return base
        top = np.argsort(-base)[: prf.docs]
        weights = base[top] / base[top].sum()
        model: Counter[int] = Counter()
        for w, c in zip(weights, top):
            toks = self.retriever.get_tokens_ids(self.corpus_tokens[int(c)])
            for tok, n in Counter(toks).items():
                model[tok] += float(w) * n / len(toks)
        asked = set(ids)
        expansion = [(t, p) for t, p in model.most_common() if t not in asked][: prf.terms]
        if not expansion:
            return base
        total = sum(p for _, p in expansion)
        out = (1 - prf.weight) * base / len(ids)
        for tok, p in expansion:
            out += prf.weight * (p / total) * self.retriever.get_scores_from_ids([tok]).astype(np.float32)
        return out
