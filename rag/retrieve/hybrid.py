"""Hybrid retrieval: dense and BM25 candidate lists from the store backend, filtered inside each search, fused by us.

Fusion (RRF or convex) and the optional chunk-to-document aggregation run on the two result
lists (rag/retrieve/fusion.py), so any store backend that returns those lists ranks the same.
Each hit keeps its dense cosine, BM25 score, ranks and fused score, so the answerer's refusal
policy and the user can both see why a passage was chosen.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from rag.embed.protocols import QueryEncoder
from rag.models import Hit, SearchFilters
from rag.retrieve.dates import date_filter_from_question
from rag.retrieve.fusion import DocAggregation, FusionMethod, by_document, convex, rrf
from rag.retrieve.rerank import CrossEncoderReranker
from rag.settings import Settings
from rag.store.snapshot import Snapshot


@dataclass
class SearchResult:
    hits: list[Hit]
    filters: SearchFilters
    notes: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    # The question's vector, encoded once here: the answer flow reuses it (no second encoder call).
    query_vector: np.ndarray | None = None


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

    def search(self, query: str, k: int | None = None, filters: SearchFilters | None = None) -> SearchResult:
        s = self.settings
        k = k or s.k
        filters = merge_filters(filters, query, s.auto_date_filter)
        t = time.perf_counter()
        qvec = self.embedder.encode_query(query)  # once, also for the retry below and for the answer flow
        embed_ms = (time.perf_counter() - t) * 1000
        result = self._search(query, qvec, k, filters)
        if filters.automatic and not result.hits:
            # The question's month/year matched no document date: say so and search everything.
            result = self._search(query, qvec, k, filters.model_copy(update={"since": None, "until": None, "automatic": False}))
            result.notes.insert(0, f"No documents dated {filters.since} to {filters.until}; searched all dates.")
        elif filters.automatic:
            result.notes.insert(0, f"Date filter {filters.since} to {filters.until} taken from the question.")
        result.timings_ms = {"embed_query": embed_ms, **result.timings_ms}
        result.query_vector = qvec
        return result

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
        weights = [s.dense_weight, s.bm25_weight]
        if s.fusion is FusionMethod.CONVEX:
            fused = convex([list(zip(d_ids.tolist(), d_scores.tolist())), list(zip(b_ids.tolist(), b_scores.tolist()))],
                           weights)
        else:
            fused = rrf([d_ids.tolist(), b_ids.tolist()], weights, s.rrf_k)
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
        timings["fuse"] = (time.perf_counter() - t) * 1000
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
                bm25_rank=bm25[i][1] if i in bm25 else None,
            )
            for i, f in top
            if i in passages
        ]
        if self.reranker and hits:
            t = time.perf_counter()
            hits = self.reranker.rerank(query, hits)
            timings["rerank"] = (time.perf_counter() - t) * 1000
        return SearchResult(hits=hits[:k], filters=filters, timings_ms=timings)
