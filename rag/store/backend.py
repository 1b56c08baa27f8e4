"""The store seam: what retrieval reads (`SearchIndex`) and what a writer drives (`StoreBackend`).

SQLite (`database.py`) stays the source of truth for every backend: documents, article texts and
spans (citations need `article.text[start:end]`), chunks, the embedding cache and the committed
generation number. A backend only holds what must be *searched*: the vectors, the keyword index and
the few metadata fields filters need. So a backend can be rebuilt from SQLite without re-embedding,
and citations never depend on which engine found the passage.

Ids everywhere are SQLite chunk row ids (INTEGER PRIMARY KEY AUTOINCREMENT: never reused, so an id
names one chunk for the collection's whole life and is stable across generations).

A commit is one SQLite transaction around `StoreBackend.stage` (see `collection.py`):
    recover(committed)            # writer opens: undo what a writer killed before its commit left
    stage(gen, manifest, change)  # gen = gen-1 - removed + added, invisible to readers of gen-1
    -- SQLite commits generation = gen --
    published(gen, manifest)      # drop what no reader can need any more
A process killed anywhere before the SQLite commit leaves generation gen-1 readable and unchanged.

Backends are picked by name (`RAG_STORE`) through `rag.store.registry`; the name, and where the
backend keeps its data, are recorded in the manifest so readers open the right one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from rag.models import SearchFilters
from rag.store.manifest import Manifest


TIE_MARGIN = 16  # extra candidates fetched so a group of equal scores at the k-th place is cut by id, not by engine


class CollectionNotFound(FileNotFoundError):
    """No committed index where one was expected; the message says how to build one."""


class StoreUnavailable(CollectionNotFound):
    """The backend holding the index cannot be opened now (a Milvus Lite file another process holds,
    a server that is down); the message says what to do. A server keeps running and retries on the
    next request, as it does while no index exists yet."""


@dataclass(frozen=True)
class Ranked:
    """Search results best first: SQLite chunk row ids and their scores (higher is better)."""

    ids: np.ndarray  # int64
    scores: np.ndarray  # float32

    @classmethod
    def empty(cls) -> Ranked:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))

    def __len__(self) -> int:
        return len(self.ids)

    def top(self, k: int) -> Ranked:
        """Best k by score, equal scores by ascending id: engines break ties differently, and this
        makes every backend return the same list for the same scores."""
        order = np.lexsort((self.ids, -self.scores))[:k]
        return Ranked(self.ids[order].astype(np.int64), self.scores[order].astype(np.float32))


@dataclass(frozen=True)
class IndexRow:
    """One chunk as a backend indexes it."""

    row_id: int
    doc_id: str
    keyword_text: str  # title + "\n" + chunk text: what BM25 scores
    date: str | None  # ISO 8601 or None
    source: str


@dataclass
class ChangeSet:
    """What one commit changes: rows removed (by row id) and rows added (with their vectors)."""

    removed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    added: list[IndexRow] = field(default_factory=list)
    vectors: np.ndarray | None = None  # (len(added), dim) float32, normalised


class RowSource(Protocol):
    """Every chunk of the generation being staged (read inside the writer's SQLite transaction),
    for backends that rebuild rather than patch (bm25s, FAISS HNSW)."""

    def all_rows(self) -> tuple[np.ndarray, list[str], list[str]]:
        """(row ids, keyword texts, embedding keys) of every chunk, in row order."""
        ...

    def vectors(self, keys: list[str]) -> dict[str, np.ndarray]:
        """Cached vectors by embedding key."""
        ...


class MetadataLookup(Protocol):
    """Answers from SQLite (the snapshot's read transaction) that filters may need."""

    def row_ids_where(self, filters: SearchFilters) -> np.ndarray:
        """Row ids of chunks whose document passes the filters (an exact, complete set)."""
        ...

    def sources_matching(self, glob: str) -> list[str]:
        """Distinct stored sources matching a SQLite GLOB pattern (exact)."""
        ...


class SearchIndex(Protocol):
    """One committed generation's searchable chunks. Read-only and thread-safe.

    Filters are applied *inside* each search, never to a truncated list: when at least k chunks
    pass the filter, k are returned. `None` or an empty `SearchFilters` means no filter. Date
    semantics: `since` <= date and date[:10] <= `until`; undated documents fail a date filter unless
    `include_undated`. `source_glob` is a SQLite GLOB (case-sensitive, `*` crosses `/`); a pattern
    without `*` matches as a substring. A backend whose expression language cannot say a pattern
    exactly must match it exactly another way (never approximately).
    """

    @property
    def size(self) -> int:
        """Number of chunks in this generation."""
        ...

    def ids(self) -> np.ndarray:
        """Row ids of every chunk in this generation (any order)."""
        ...

    def dense(self, query: np.ndarray, k: int, filters: SearchFilters | None = None) -> Ranked:
        """At most k chunks by inner product with the normalised query vector (= cosine), best first,
        equal scores by ascending id."""
        ...

    def keyword(self, query: str, k: int, filters: SearchFilters | None = None) -> Ranked:
        """At most k chunks by BM25 over keyword_text; only chunks sharing a term with the query;
        best first, equal scores by ascending id.

        Scores are on bm25s's scale (Lucene BM25, no (k1+1) factor) whatever the engine."""
        ...

    def dense_scores(self, query: np.ndarray, ids: list[int]) -> dict[int, float]:
        """Inner product of the query with each given chunk (keyword-only hits need their cosine)."""
        ...

    def problems(self) -> list[str]:
        """Internal inconsistencies (empty when sound)."""
        ...

    def close(self) -> None: ...


class StoreBackend(Protocol):
    """Writes generations of one collection into an engine and opens them for reading."""

    name: str

    def recover(self, committed: int, manifest: Manifest | None) -> None:
        """Undo anything a writer killed before its SQLite commit left behind (committed = the
        generation SQLite names)."""
        ...

    def stage(self, gen: int, manifest: Manifest, change: ChangeSet, rows: RowSource) -> Manifest:
        """Make generation `gen` = generation gen-1 minus `change.removed` plus `change.added`,
        invisible to readers until SQLite commits it. Returns the manifest to commit (with where the
        backend keeps the data)."""
        ...

    def published(self, gen: int, manifest: Manifest) -> None:
        """Called after SQLite committed `gen`: drop data no reader can need any more."""
        ...

    def open_index(self, gen: int, manifest: Manifest, lookup: MetadataLookup) -> SearchIndex:
        """A read-only view of committed generation `gen`."""
        ...

    def drop(self, manifest: Manifest) -> None:
        """Delete everything this backend stored for a collection (after a rebuild replaced it)."""
        ...
