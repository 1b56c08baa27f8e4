"""BM25 over chunk texts with bm25s (sparse-matrix BM25, fast to build and query).

bm25s has no in-place update, so each generation re-indexes every chunk's terms (~0.25 s for
SciFact's 13k chunks); the terms themselves are analysed only for chunks the commit adds (below). Positions in the bm25s index map to chunk row ids through `row_ids.npy`.

The scoring parameters and the tokenizer are saved with each index (`bm25_params.json`) and read
back on load, so queries are always tokenized the way their index was: an index written before
the file existed used `LEGACY_PARAMS`. New indexes use `DEFAULT_PARAMS`, chosen on SciFact's
tuning part by the retrieval-levers table (docs/DECISIONS.md, "Retrieval").

Han text (issue 32): bm25s's pattern keeps a whole run of Han characters as one term, so a Chinese
question matched only a chunk holding its exact clause. With `han` (every new index) each Han run
is cut into words: a chunk by jieba's search mode (words plus their dictionary sub-words: 上海市政府
also gives 上海, 政府), a question by its precise mode (see query_terms); Chinese stop words are
dropped and the digits between runs kept even when single (7月27日 -> 7 月 27 日). A text without
Han characters takes exactly the old path, so English collections rank as before with or without
`han`.

A commit analyses only the chunks it adds (issue 30): each generation saves its rows' terms (bm25_terms.py)
and the next build reuses them; bm25s then indexes all rows' terms as before, so the scores are exactly
those of a build from every text.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from rag.store.bm25_terms import TERMS_FILE, RowTerms, merge_terms
from rag.zh.script import HAN_RUN_RE, has_han
from rag.zh.segment import cut, cut_for_search
from rag.zh.stopwords import is_stop

# bm25s sets its own logger to DEBUG when imported, so "DEBUG:bm25s:Building index from tokens" reached the
# terminal of every `rag index` as soon as any library had configured the root logger.
logging.getLogger("bm25s").setLevel(logging.WARNING)

ROW_IDS_FILE = "row_ids.npy"
PARAMS_FILE = "bm25_params.json"
METHODS = ("lucene", "robertson", "atire", "bm25l", "bm25+")
SPARSE_RATIO = 8  # below num_docs / 8 postings, sorting the postings beats a dense array of every chunk
ZERO_FOR_ABSENT = ("lucene", "robertson", "atire")  # methods giving a chunk without the term 0
# bm25s.tokenize's defaults (lower-case, this pattern, its English stop words): query_terms repeats them.
TOKEN_PATTERN = re.compile(r"(?u)\b\w\w+\b")
# Between Han runs a lone digit is a date or count part (7月, 3家), not noise: kept in Han-bearing text only.
HAN_GAP_PATTERN = re.compile(r"(?u)\b\w\w+\b|\b\d\b")
# Saved terms are reused only under the same key (terms_key): bump this whenever `tokenize` changes its
# output for the same params (patterns, stop-word lists, segmentation), or old chunks keep their old terms.
ANALYSER_VERSION = 1


@dataclass(frozen=True)
class Bm25Params:
    method: str = "lucene"
    k1: float = 1.5
    b: float = 0.75
    delta: float = 0.5  # BM25L / BM25+ only
    stem: bool = True  # English Snowball stemmer (PyStemmer)
    stopwords: bool = True  # bm25s's English stop-word list
    # Han runs cut into words by jieba, rag.zh.stopwords dropped; False = a Han run is one term,
    # as in every index before issue 32 (absent from their params, so they are queried as they were built).
    han: bool = False

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"BM25 method {self.method!r} unknown: use one of {', '.join(METHODS)}")
        if self.k1 < 0 or not 0 <= self.b <= 1 or self.delta < 0:
            raise ValueError(f"BM25 needs k1 >= 0, 0 <= b <= 1, delta >= 0; got k1={self.k1}, b={self.b}, "
                             f"delta={self.delta}")


LEGACY_PARAMS = Bm25Params()  # bm25s defaults with stemming and stop words: every index before the params file
DEFAULT_PARAMS = Bm25Params(han=True)


def params_from_record(record: dict | None) -> Bm25Params:
    """Parameters recorded with an index (a manifest field or bm25_params.json); None = LEGACY_PARAMS."""
    return LEGACY_PARAMS if record is None else Bm25Params(**record)


def terms_key(params: Bm25Params) -> str:
    """What made a terms file: the params, this analyser's version and the libraries that analyse."""
    libs = {name: version(name) for name in ("bm25s", "jieba", "PyStemmer")}
    return json.dumps({**asdict(params), "analyser": ANALYSER_VERSION, **libs}, sort_keys=True)


class BM25Index:
    def __init__(self, retriever: bm25s.BM25 | None, row_ids: np.ndarray, params: Bm25Params = DEFAULT_PARAMS) -> None:
        self._retriever = retriever
        self._row_ids = row_ids.astype(np.int64)
        self.params = params
        self._stemmer = Stemmer.Stemmer("english") if params.stem else None
        self._stopwords = frozenset(bm25s.stopwords.STOPWORDS_EN) if params.stopwords else frozenset()
        self.terms: RowTerms | None = None  # every row's terms, for the next generation's build (set by build)

    def tokenize(self, texts: list[str]) -> list[list[str]]:
        """Texts as this index's terms (stop words dropped, stemmed, Han runs cut, per its params)."""
        if not self.params.han:
            return self._bm25s_tokenize(texts)
        is_han = [has_han(t) for t in texts]
        if not any(is_han):  # an English collection: one bm25s call, exactly as before
            return self._bm25s_tokenize(texts)
        latin = [t for t, h in zip(texts, is_han) if not h]
        latin_terms = iter(self._bm25s_tokenize(latin) if latin else [])
        return [self._han_terms(t, cut_for_search) if h else next(latin_terms) for t, h in zip(texts, is_han)]

    def _bm25s_tokenize(self, texts: list[str]) -> list[list[str]]:
        return bm25s.tokenize(texts, stopwords="en" if self.params.stopwords else None, stemmer=self._stemmer,
                              return_ids=False, show_progress=False)

    def query_terms(self, text: str) -> list[str]:
        """A question's terms. Without Han characters exactly `tokenize([text])[0]` (a test checks it on
        real text): every backend analyses questions (and Milvus its stored text) with this, so keyword
        rankings agree. A Han run is cut in jieba's precise mode, a subset of the search-mode words its
        documents hold: a question's long word still matches (the document has it too), without its
        generic parts (上半年 -> 上半, 半年) outvoting the words that pick the article (F's train
        questions over all 11,576 articles: hit@5 0.941 precise vs 0.912 search).

        bm25s.tokenize builds vocabularies and three (disabled) progress bars per call: ~0.3 ms of a
        ~2 ms search; a question needs only the split, the stop-word filter and the stemmer."""
        if self.params.han and has_han(text):
            return self._han_terms(text, cut)
        return self._latin_terms(text, TOKEN_PATTERN)

    def _latin_terms(self, text: str, pattern: re.Pattern[str]) -> list[str]:
        words = [w for w in pattern.findall(text.lower()) if w not in self._stopwords]
        return self._stemmer.stemWords(words) if self._stemmer is not None else words

    def _han_terms(self, text: str, segment: Callable[[str], list[str]]) -> list[str]:
        """Han runs cut by `segment`, the text between them split as bm25s splits it (plus lone digits)."""
        terms: list[str] = []
        start = 0
        for run in HAN_RUN_RE.finditer(text):
            if run.start() > start:
                terms += self._latin_terms(text[start:run.start()], HAN_GAP_PATTERN)
            terms += [w for w in segment(run.group()) if not is_stop(w)]
            start = run.end()
        if start < len(text):
            terms += self._latin_terms(text[start:], HAN_GAP_PATTERN)
        return terms

    @classmethod
    def build(cls, row_ids: np.ndarray, texts: list[str], params: Bm25Params = DEFAULT_PARAMS,
              previous: RowTerms | None = None) -> BM25Index:
        """The index of these rows. `previous` (a generation's saved terms) spares analysing the rows it
        holds; terms saved under other params or another analyser are ignored (every text is analysed)."""
        if not texts:
            return cls(None, np.zeros(0, dtype=np.int64), params)
        index = cls(None, row_ids, params)
        index.terms = merge_terms(terms_key(params), row_ids, texts, index.tokenize, previous)
        retriever = bm25s.BM25(method=params.method, k1=params.k1, b=params.b, delta=params.delta)
        retriever.index(index.terms.corpus(), show_progress=False)
        index._retriever = retriever
        return index

    @property
    def retriever(self) -> bm25s.BM25 | None:
        """The bm25s index (positions = row order), for benchmarks that need whole score vectors."""
        return self._retriever

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
        tokens = [self.query_terms(query)]
        if not tokens[0]:
            return empty
        if self.params.method not in ZERO_FOR_ABSENT:
            return self._search_bm25s(tokens, k, allowed)
        token_ids = self._retriever.get_tokens_ids(tokens[0])
        if not token_ids:
            return empty
        docs, scores = self._matching(token_ids)
        if allowed is not None:  # inside the search: every matching allowed chunk competes for the k places
            keep = np.isin(self._row_ids[docs], allowed)
            docs, scores = docs[keep], scores[keep]
        if len(docs) > k:
            top = np.argpartition(-scores, k - 1)[:k]
            docs, scores = docs[top], scores[top]
        order = np.argsort(-scores, kind="stable")
        return scores[order], self._row_ids[docs[order]]

    def _search_bm25s(self, tokens: list[list[str]], k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """bm25s's own retrieve: BM25L/BM25+ also score chunks without a query term."""
        empty = (np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64))
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

    def _matching(self, token_ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Every chunk sharing a term with the query and its BM25 score (> 0).

        The same sums as bm25s's retrieve (its precomputed per-term scores), but one `np.bincount`
        over the query terms' postings instead of an `np.add.at` per term, and a top-k over the
        matching chunks only: measured 163 ms -> see docs/SCALING.md at 1M chunks (eval/bench/scale.py).
        """
        s = self._retriever.scores
        indptr, indices, data = s["indptr"], s["indices"], s["data"]
        spans = [(int(indptr[t]), int(indptr[t + 1])) for t in token_ids]
        idx = np.concatenate([indices[a:b] for a, b in spans])
        if len(idx) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        weights = np.concatenate([data[a:b] for a, b in spans])
        if len(idx) * SPARSE_RATIO < s["num_docs"]:
            docs, inverse = np.unique(idx, return_inverse=True)  # few postings: stay sparse
            scores = np.bincount(inverse, weights=weights)
        else:
            dense = np.bincount(idx, weights=weights, minlength=int(s["num_docs"]))
            docs = np.flatnonzero(dense)
            scores = dense[docs]
        keep = scores > 0
        return docs[keep].astype(np.int64), scores[keep].astype(np.float32)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / ROW_IDS_FILE, self._row_ids)
        (folder / PARAMS_FILE).write_text(json.dumps(asdict(self.params)), encoding="utf-8")
        if self._retriever is not None:
            self._retriever.save(str(folder), show_progress=False)
        if self.terms is not None:
            self.terms.save(folder / TERMS_FILE)

    @staticmethod
    def saved_terms(folder: Path) -> RowTerms | None:
        """The row terms saved with the index in `folder` (None for an index from before issue 30)."""
        return RowTerms.load(folder / TERMS_FILE)

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        row_ids = np.load(folder / ROW_IDS_FILE)
        pfile = folder / PARAMS_FILE
        params = params_from_record(json.loads(pfile.read_text(encoding="utf-8")) if pfile.is_file() else None)
        if len(row_ids) == 0:
            return cls(None, row_ids, params)
        retriever = bm25s.BM25.load(str(folder), load_corpus=False, show_progress=False)
        return cls(retriever, row_ids, params)
