"""A read-only, consistent view of one committed generation of a collection.

The snapshot holds an open SQLite read transaction, so chunk and article look-ups see exactly the
data its search index (`self.index`, a `SearchIndex` of the collection's backend) was built from,
even while a writer commits a newer generation.
Readers (the API server) open a new snapshot when `Collection.generation()` moves on.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import numpy as np

from rag.embed.protocols import QueryEncoder
from rag.models import Article, ChunkSentences, DocumentEntry, DocumentInfo, Passage, SearchFilters
from rag.store import database as db
from rag.store.backend import SearchIndex
from rag.store.manifest import Manifest
from rag.store.sentence_cache import LazySentences


class Snapshot:
    def __init__(
        self,
        path: Path,
        conn: sqlite3.Connection,
        generation: int,
        manifest: Manifest,
    ) -> None:
        self.path = path
        self.generation = generation
        self.manifest = manifest
        self.index: SearchIndex  # set by Collection.open_snapshot (the backend needs this snapshot's lookup)
        self._conn = conn
        self._lock = threading.Lock()  # one sqlite3 connection shared by server threads
        self._lazy: LazySentences | None = None  # set by use_lazy_sentences

    @property
    def size(self) -> int:
        return self.index.size

    def passages(self, row_ids: list[int]) -> dict[int, Passage]:
        with self._lock:
            return db.passages(self._conn, row_ids)

    def passage(self, row_id: int) -> Passage:
        found = self.passages([row_id])
        if row_id not in found:
            raise KeyError(f"No chunk with row id {row_id} in generation {self.generation}")
        return found[row_id]

    @property
    def has_sentence_vectors(self) -> bool:
        """True when `sentences` gives every chunk's sentence vectors: embedded at index time (an eager
        collection), or on first use through `use_lazy_sentences`."""
        return self.manifest.sentence_vectors or self._lazy is not None

    def use_lazy_sentences(self, encoder: QueryEncoder) -> bool:
        """Let `sentences` embed what a collection without index-time sentence vectors lacks, with
        `encoder`, and keep the vectors in the collection's cache (rag/store/sentence_cache.py).
        False (nothing changes) for an eager collection or an encoder of another vector family."""
        if self.manifest.sentence_vectors or encoder.identity.compat_key != self.manifest.encoder_key:
            return False
        with self._lock:
            (_, _, file), *_ = self._conn.execute("PRAGMA database_list").fetchall()
        self._lazy = LazySentences(Path(file), encoder, self.manifest.dim)
        return True

    def sentences(self, row_ids: list[int]) -> dict[int, ChunkSentences]:
        """Sentences of these chunks (exact article spans) with their vectors, by row id.

        Use `Passage.row_id` of a hit as the key. Spans are those `split_chunk_sentences` gives for
        the chunk text, offset to the article; vectors are unit vectors from this collection's
        encoder, so `vectors @ query_vector` is the cosine. An eager collection reads them as
        indexed; with `use_lazy_sentences` a missing one is encoded now and cached. A chunk absent
        from the result has no sentence vectors (sentence vectors off): encode its sentences yourself.
        """
        if not row_ids:
            return {}
        if self._lazy is not None:
            return self._lazy.sentences(self.passages(list(row_ids)))
        if not self.manifest.sentence_vectors:
            return {}
        with self._lock:
            return db.sentences(self._conn, list(row_ids), self.manifest.dim)

    def article(self, doc_id: str) -> Article | None:
        with self._lock:
            return db.article(self._conn, doc_id)

    def documents(self) -> list[DocumentInfo]:
        with self._lock:
            return db.documents(self._conn)

    def document_entries(self, preview_chars: int = 400) -> list[DocumentEntry]:
        """Every document with the start of its text and its ingest time (the by-file listing)."""
        with self._lock:
            return db.document_entries(self._conn, preview_chars)

    def row_ids_where(self, filters: SearchFilters | None) -> np.ndarray | None:
        """Chunk row ids passing the filters, or None when there is nothing to filter on."""
        if filters is None or not (filters.since or filters.until or filters.source_glob):
            return None
        with self._lock:
            return db.row_ids_where(self._conn, filters)

    def check(self) -> list[str]:
        """Problems that would make this generation inconsistent (empty list when sound)."""
        with self._lock:
            n_chunks = int(self._conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])
            n_docs = int(self._conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
            row_ids = {r for (r,) in self._conn.execute("SELECT row_id FROM chunks")}
        problems = []
        if self.index.size != n_chunks:
            problems.append(f"The {self.manifest.store} index holds {self.index.size} chunks but SQLite {n_chunks}")
        if (self.manifest.chunks, self.manifest.documents) != (n_chunks, n_docs):
            problems.append(f"manifest says {self.manifest.documents} docs/{self.manifest.chunks} chunks, "
                            f"SQLite has {n_docs}/{n_chunks}")
        if set(self.index.ids().tolist()) != row_ids:
            problems.append(f"The {self.manifest.store} index's ids differ from SQLite chunk ids")
        if self.manifest.sentence_vectors:
            with self._lock:
                problems += db.sentence_problems(self._conn, self.manifest.dim)
        return problems + self.index.problems()

    def __del__(self) -> None:
        if getattr(self, "_lazy", None) is not None:
            self._lazy.close()
        try:
            self.index.close()
        except Exception:  # never opened, or interpreter shutdown
            pass
        try:
            self._conn.close()
        except Exception:  # interpreter shutdown: nothing left to release
            pass

    def close(self) -> None:
        if self._lazy is not None:
            self._lazy.close()
        with self._lock:
            try:
                self._conn.execute("COMMIT")
            except sqlite3.OperationalError:
                pass
            self._conn.close()
        if hasattr(self, "index"):
            self.index.close()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SqliteLookup:
    """`MetadataLookup` through a snapshot's read transaction."""

    def __init__(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot

    def row_ids_where(self, filters: SearchFilters) -> np.ndarray:
        snap = self._snapshot
        with snap._lock:
            return db.row_ids_where(snap._conn, filters)

    def sources_matching(self, glob: str) -> list[str]:
        snap = self._snapshot
        with snap._lock:
            return db.sources_matching(snap._conn, glob)
