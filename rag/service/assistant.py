"""The Assistant: one collection's newest generation, the query encoder and the question path, held together.

One Assistant is long-lived (the CLI makes one per command, the service one per process): it loads the
embedding model once and re-opens the collection snapshot when a writer has committed a newer
generation, so readers never see a half-written index and never need a restart. Questions take the
one path in `rag.service.ask`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from rag.embed.factory import Role, make_encoder
from rag.embed.protocols import QueryEncoder
from rag.models import Answer, Article, AskRequest, Progress, SearchFilters
from rag.retrieve.hybrid import HybridRetriever, SearchResult
from rag.retrieve.rerank import CrossEncoderReranker
from rag.service.ask import QuestionPath, final_answer
from rag.settings import Settings
from rag.store.collection import Collection
from rag.store.snapshot import Snapshot


class Assistant:
    def __init__(self, settings: Settings, embedder: QueryEncoder | None = None, role: Role = "query") -> None:
        self.settings = settings
        self.collection = Collection(settings.collection_dir)
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = self.collection.open_snapshot()  # fails early with advice when there is no index
        # Queries use the encoder family that built the index (its manifest), whatever the settings say.
        self.embedder = embedder if embedder is not None else make_encoder(settings, role, self._snapshot.manifest)
        self.reranker = CrossEncoderReranker(settings.reranker_path) if settings.reranker_path else None
        self.path = QuestionPath(settings, self.embedder)
        self._with_lazy_sentences(self._snapshot)

    # ------------------------------------------------------------------ snapshot life cycle
    @property
    def snapshot(self) -> Snapshot:
        """The newest committed generation; re-opened when a writer has moved on."""
        with self._lock:
            assert self._snapshot is not None
            if self.collection.generation() != self._snapshot.generation:
                # Requests still running hold a reference to the old snapshot; its SQLite connection
                # closes when the last of them drops it (garbage collection), never under their feet.
                self._snapshot = self._with_lazy_sentences(self.collection.open_snapshot())
            return self._snapshot

    def _with_lazy_sentences(self, snapshot: Snapshot) -> Snapshot:
        """A collection without index-time sentence vectors (built lazy or off): candidates' sentence vectors
        are embedded on first use by the query encoder and kept in the collection's cache, so the next
        question reads them (issue 30). Only RAG_SENTENCE_VECTORS=off keeps nothing (encoded per question)."""
        if self.settings.sentence_vector_mode != "off":
            snapshot.use_lazy_sentences(self.embedder)
        return snapshot

    def retriever(self, snapshot: Snapshot | None = None) -> HybridRetriever:
        return HybridRetriever(snapshot or self.snapshot, self.embedder, self.settings, self.reranker)

    def article(self, doc_id: str) -> Article | None:
        return self.snapshot.article(doc_id)

    # ------------------------------------------------------------------ queries
    def search(self, query: str, k: int | None = None, filters: SearchFilters | None = None) -> SearchResult:
        """Ranked passages for `query`; an English query over a Chinese collection is searched in Chinese when
        an LLM endpoint is configured (QuestionPath.search_query), and the result says so."""
        retriever = self.retriever()
        searched = self.path.search_query(query, retriever.snapshot.manifest.model)
        result = retriever.search(searched, k, filters)
        if searched != query:
            result.notes.insert(0, f"Searched the Chinese documents with a translation of the question: {searched}")
        return result

    def ask(self, request: AskRequest | str) -> Answer:
        """The final verified Answer for one request (a plain string is a request with defaults)."""
        return final_answer(self.stream(request))

    def stream(self, request: AskRequest | str) -> Iterator[str | Progress | Answer]:
        """Answer text as it is produced, then the final verified Answer (always last): `QuestionPath.run`
        over one snapshot (retrieval, article text and stored sentence vectors all from the same generation)."""
        req = AskRequest(question=request) if isinstance(request, str) else request
        snapshot = self.snapshot
        return self.path.run(req, self.retriever(snapshot), snapshot.article, snapshot.sentences)

    def close(self) -> None:
        with self._lock:
            if self._snapshot is not None:
                self._snapshot.close()
            self._snapshot = None
            self.collection.close()


def open_assistant(settings: Settings, index_dir: Path | None = None) -> Assistant:
    if index_dir is not None:
        settings = settings.model_copy(update={"index_dir": index_dir})
    return Assistant(settings)
