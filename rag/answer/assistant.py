"""The end-to-end assistant: retrieve -> answer -> cite, over the current generation of one collection.

One Assistant is long-lived (the CLI makes one per command, the API one per process): it loads the
embedding model once and re-opens the collection snapshot when a writer has committed a newer
generation, so readers never see a half-written index and never need a restart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

from rag.embed.factory import Role
from rag.embed.protocols import QueryEncoder
from rag.models import Answer, Article, AskRequest, ChatTurn, SearchFilters
from rag.retrieve.hybrid import HybridRetriever, SearchResult
from rag.retrieve.rerank import CrossEncoderReranker
from rag.settings import Settings
from rag.store.collection import Collection
from rag.store.snapshot import Snapshot


class Assistant:
    def __init__(self, settings: Settings, embedder: QueryEncoder | None = None, role: Role = "query") -> None:
        self.settings = settings
        self.collection = Collection(settings.collection_dir)
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._snapshot = self.collection.open_snapshot()  # fails early with advice when there is no index
        if embedder is None:
            from rag.embed.factory import make_encoder  # noqa: PLC0415 - loads a model

            # Queries use the encoder family that built the index (its manifest), whatever the settings say.
            embedder = make_encoder(settings, role, self._snapshot.manifest)
        self.embedder = embedder
        self.reranker = CrossEncoderReranker(settings.reranker_path) if settings.reranker_path else None
        from rag.answer.modes import QuestionFlow  # noqa: PLC0415 - keeps import order clean for the CLI

        self.flow = QuestionFlow(settings, self.embedder)

    # ------------------------------------------------------------------ snapshot life cycle
    @property
    def snapshot(self) -> Snapshot:
        """The newest committed generation; re-opened when a writer has moved on."""
        with self._lock:
            assert self._snapshot is not None
            if self.collection.generation() != self._snapshot.generation:
                # Requests still running hold a reference to the old snapshot; its SQLite connection
                # closes when the last of them drops it (garbage collection), never under their feet.
                self._snapshot = self.collection.open_snapshot()
            return self._snapshot

    def retriever(self) -> HybridRetriever:
        return HybridRetriever(self.snapshot, self.embedder, self.settings, self.reranker)

    def article(self, doc_id: str) -> Article | None:
        return self.snapshot.article(doc_id)

    # ------------------------------------------------------------------ queries
    def search(self, query: str, k: int | None = None, filters: SearchFilters | None = None) -> SearchResult:
        return self.retriever().search(query, k, filters)

    def ask(self, request: AskRequest | str) -> Answer:
        """The final verified Answer for one request (a plain string is a request with defaults)."""
        *_, final = self.stream(request)
        assert isinstance(final, Answer)
        return final

    def stream(self, request: AskRequest | str) -> Iterator[str | Answer]:
        """Yield answer text as it is produced, then the final verified Answer (always last)."""
        req = AskRequest(question=request) if isinstance(request, str) else request
        t0 = time.perf_counter()
        rewritten = self.rewrite(req.question, req.history)
        snapshot = self.snapshot
        retriever = HybridRetriever(snapshot, self.embedder, self.settings, self.reranker)
        result = retriever.search(rewritten, req.k, req.filters)
        t_retrieve = (time.perf_counter() - t0) * 1000
        final: Answer | None = None
        # score evidence -> refuse or not -> compose -> verify -> number (rag.answer.modes.QuestionFlow)
        sentence_vectors = result.sentence_lookup(snapshot.sentences)  # sentences the search read are not read again
        for item in self.flow.stream(rewritten, result.hits, snapshot.article, req.mode, req.explain,
                                     sentence_vectors=sentence_vectors, query_vector=result.query_vector):
            if isinstance(item, Answer):
                final = item
            else:
                yield item
        assert final is not None, "the flow always ends with an Answer"
        explain = final.explain
        if explain is not None:
            explain.rewritten_question = rewritten if rewritten != req.question else None
        final = final.model_copy(
            update={
                "question": req.question,
                "rewritten_question": rewritten if rewritten != req.question else None,
                "filters": result.filters,
                "notes": [*result.notes, *final.notes],
                "explain": explain,
                "timings_ms": {
                    **final.timings_ms,
                    **result.timings_ms,
                    "retrieve": t_retrieve,
                    "total": (time.perf_counter() - t0) * 1000,
                },
            }
        )
        yield final

    def rewrite(self, question: str, history: list[ChatTurn]) -> str:
        if not history:
            return question
        from rag.answer.rewrite import rewrite_question  # noqa: PLC0415

        turns = [{"role": t.role, "content": t.content} for t in history]
        return rewrite_question(question, turns, self.flow.llm_client(), model=self.settings.llm_model)

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
