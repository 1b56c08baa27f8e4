"""Hybrid retrieval: dense and BM25 candidate lists from the store backend, filtered inside each search, fused by us.

Fusion (RRF or convex) and the optional chunk-to-document aggregation run on the result lists
(rag/retrieve/fusion.py), so any store backend that returns those lists ranks the same. When the
collection stores sentence vectors, an optional third list (`sentence_weight`, off by default)
re-scores the best `sentence_depth` fused candidates by each chunk's best sentence (a claim often
restates one sentence, which a 200-word-piece chunk vector dilutes); the sentences come from SQLite
for every backend.
Each hit keeps its dense cosine, BM25 score, ranks and fused score, so the answerer's refusal
policy and the user can both see why a passage was chosen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rag.embed.protocols import QueryEncoder
from rag.models import ChunkSentences, Hit, SearchFilters
from rag.retrieve.dates import date_filter_from_question
from rag.retrieve.fusion import DocAggregation, FusionMethod, by_document, convex, rrf
from rag.retrieve.rerank import CrossEncoderReranker
from rag.retrieve.respell import known_words, respell
from rag.settings import Settings
from rag.store.snapshot import Snapshot
from rag.zh.script import han_text


@dataclass
class SearchResult:
    hits: list[Hit]
    filters: SearchFilters
    notes: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    # The question's vector, encoded once here: the answer flow reuses it (no second encoder call).
    query_vector: np.ndarray | None = None
    # Stored sentences read for the sentence list, by row id: the answer flow reads them from here first.
    sentences: dict[int, ChunkSentences] = field(default_factory=dict)
    query: str | None = None  # the question as searched, when a misspelt word was read as the documents' word

    def sentence_lookup(self, read: Callable[[list[int]], dict[int, ChunkSentences]]
                        ) -> Callable[[list[int]], dict[int, ChunkSentences]]:
        """`read` (Snapshot.sentences) with the sentences this search already read served without a second read."""
        def lookup(row_ids: list[int]) -> dict[int, ChunkSentences]:
            found = {r: self.sentences[r] for r in row_ids if r in self.sentences}
            rest = [r for r in row_ids if r not in self.sentences]
            return {**found, **read(rest)} if rest else found
        return lookup


def merge_filters(explicit: SearchFilters | None, question: str, auto: bool) -> SearchFilters:
    """Explicit filters win; a month or year named in the question fills in only when none was given."""
    filters = explicit or SearchFilters()
    if auto and not (filters.since or filters.until):
        found = date_filter_from_question(question)
        if found:
            return filters.model_copy(
                update={"since": found.since, "until": found.until, "include_undated": True, "automatic": True}
            )
    return filters


class HybridRetriever:
    def __init__(
        self,
        snapshot: Snapshot,
        embedder: QueryEncoder,
        settings: Settings,
        reranker: CrossEncoderReranker | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.embedder = embedder
        self.settings = settings
        self.reranker = reranker
        self._known: frozenset[str] | None = None  # real English words, read on the first question that needs them

    def search(self, query: str, k: int | None = None, filters: SearchFilters | None = None) -> SearchResult:
        """The ranked passages; a word no passage uses and spelled nearly like one of theirs is read as theirs and
        the question searched again (rag/retrieve/respell.py): `result.query` is then what was searched."""
        result = self._search_dated(query, k, filters)
        if not self.settings.respell or han_text(query) or not result.hits:
            return result
        fixed = respell(query, [h.passage.text for h in result.hits], self._known_words, self._written)
        if not fixed.changed:
            return result
        again = self._search_dated(fixed.question, k, filters)
        again.query = fixed.question
        again.notes.insert(0, fixed.note())
        again.timings_ms = {f"{name}_first": ms for name, ms in result.timings_ms.items()} | again.timings_ms
        return again

    def _known_words(self) -> frozenset[str]:
        if self._known is None:
            self._known = known_words()
        return self._known

    def _written(self, word: str) -> bool:
        """Whether some document writes `word` as typed: its best keyword hits, read back (keyword search stems,
        and "applicance" shares its stem with "application")."""
        ids = [int(i) for i in self.snapshot.index.keyword(word, 3).ids]
        return any(word in p.text.casefold() for p in self.snapshot.passages(ids).values())

    def _search_dated(self, query: str, k: int | None = None, filters: SearchFilters | None = None) -> SearchResult:
        s = self.settings
        k = k or s.k
        filters = merge_filters(filters, query, s.auto_date_filter)
        t = time.perf_counter()
        qvec = self.embedder.encode_query(query)  # once, also for the retry below and for the answer flow
        embed_ms = (time.perf_counter() - t) * 1000
        result = self._search(query, qvec, k, filters)
        if filters.automatic and result.hits and not self._dated_in_range(query, qvec, k, filters, result.hits):
            result.hits = []  # only undated documents passed: no document carries the question's date
        if filters.automatic and not result.hits:
            # The question's month/year matched no document date: say so and search everything.
            result = self._search(query, qvec, k, filters.model_copy(update={"since": None, "until": None, "automatic": False}))
            result.notes.insert(0, f"No documents dated {filters.since} to {filters.until}; searched all dates.")
        elif filters.automatic:
            result.notes.insert(0, f"Date filter {filters.since} to {filters.until} taken from the question.")
        result.timings_ms = {"embed_query": embed_ms, **result.timings_ms}
        result.query_vector = qvec
        return result

    def _dated_in_range(self, query: str, qvec: np.ndarray, k: int, filters: SearchFilters, hits: list[Hit]) -> bool:
        """Whether a document dated inside the automatic filter's range matches. Undated documents pass such
        a filter, so hits alone do not show it: a news collection has many undated articles, and a question
        naming the year its figure belongs to (2022年营收, "in 2022") would otherwise see only those instead
        of falling back to all dates. Asked again without undated documents only when no hit is dated."""
        if any(h.passage.date for h in hits):
            return True  # the filter let it through, so its date is inside the range
        return bool(self._search(query, qvec, k, filters.model_copy(update={"include_undated": False})).hits)

    def _fuse(self, scored: list[list[tuple[int, float]]], weights: list[float]) -> list[tuple[int, float]]:
        if self.settings.fusion is FusionMethod.CONVEX:
            return convex(scored, weights)
        return rrf([[i for i, _ in hits] for hits in scored], weights, self.settings.rrf_k)

    def _search(self, query: str, qvec: np.ndarray, k: int, filters: SearchFilters) -> SearchResult:
        s, snap = self.settings, self.snapshot
        timings: dict[str, float] = {}
        t = time.perf_counter()
        dense_hits = snap.index.dense(qvec, s.dense_depth, filters)
        d_scores, d_ids = dense_hits.scores, dense_hits.ids
        timings["dense"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        keyword_hits = snap.index.keyword(query, s.bm25_depth, filters)
        b_scores, b_ids = keyword_hits.scores, keyword_hits.ids
        timings["bm25"] = (time.perf_counter() - t) * 1000

        t = time.perf_counter()
        scored = [list(zip(d_ids.tolist(), d_scores.tolist())), list(zip(b_ids.tolist(), b_scores.tolist()))]
        weights = [s.dense_weight, s.bm25_weight]
        fused = self._fuse(scored, weights)
        timings["fuse"] = (time.perf_counter() - t) * 1000
        notes: list[str] = []
        sentence: dict[int, float] = {}
        stored: dict[int, ChunkSentences] = {}
        if s.sentence_weight > 0 and snap.has_sentence_vectors and fused:
            # The third list: the best fused candidates re-scored by their best stored sentence, fused again.
            t = time.perf_counter()
            stored = snap.sentences([i for i, _ in fused[: s.sentence_depth]])
            sentence = {r: float((cs.vectors @ qvec).max()) for r, cs in stored.items() if cs.spans}
            fused = self._fuse([*scored, sorted(sentence.items(), key=lambda kv: (-kv[1], kv[0]))],
                               [*weights, s.sentence_weight])
            timings["sentences"] = (time.perf_counter() - t) * 1000
        elif s.sentence_weight > 0 and not snap.has_sentence_vectors:
            notes.append("Sentence list off: this collection stores no sentence vectors and makes none on first use "
                         "(RAG_SENTENCE_VECTORS=lazy or eager to use RAG_SENTENCE_WEIGHT).")
        t = time.perf_counter()
        chunk_score = dict(fused)
        depth = max(k, s.rerank_depth if self.reranker else k)
        if s.doc_aggregation is DocAggregation.NONE:
            top = fused[:depth]
            passages = snap.passages([i for i, _ in top])
        else:
            # Every candidate's document is needed to aggregate: read them all (at most the two depths).
            passages = snap.passages([i for i, _ in fused])
            doc_of = {i: passages[i].doc_id for i, _ in fused if i in passages}
            top = by_document([(i, f) for i, f in fused if i in doc_of], doc_of, s.doc_aggregation,
                              s.doc_aggregation_top_n)[:depth]
        timings["fuse"] += (time.perf_counter() - t) * 1000
        dense = {int(i): (float(sc), r) for r, (i, sc) in enumerate(zip(d_ids, d_scores), start=1)}
        bm25 = {int(i): (float(sc), r) for r, (i, sc) in enumerate(zip(b_ids, b_scores), start=1)}
        missing_dense = [i for i, _ in top if i not in dense]
        if missing_dense:
            # BM25-only candidates still get their cosine: the refusal policy reads it.
            for i, sc in snap.index.dense_scores(qvec, missing_dense).items():
                dense[i] = (sc, 0)  # rank 0: not among the dense candidates
        hits = [
            Hit(
                passage=passages[i],
                score=f,
                fused_score=chunk_score[i],
                dense_score=dense[i][0] if i in dense else None,
                dense_rank=dense[i][1] or None if i in dense else None,
                bm25_score=bm25[i][0] if i in bm25 else None,
                sentence_score=sentence.get(i),
                bm25_rank=bm25[i][1] if i in bm25 else None,
            )
            for i, f in top
            if i in passages
        ]
        if self.reranker and hits:
            t = time.perf_counter()
            hits = self.reranker.rerank(query, hits)
            timings["rerank"] = (time.perf_counter() - t) * 1000
        return SearchResult(hits=hits[:k], filters=filters, notes=notes, timings_ms=timings, sentences=stored)
