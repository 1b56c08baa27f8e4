"""Lazy sentence vectors: a chunk's sentences embedded the first time an answer needs them, then kept.

Why: embedding every chunk sentence at index time more than doubles the index run (SciFact: each
chunk's text is encoded twice, as a chunk and sentence by sentence; issue 30), for vectors most of
which no question ever reads. With RAG_SENTENCE_VECTORS=lazy the index stores chunk vectors only;
the first question whose candidates fall in a chunk encodes that chunk's sentences here.

Same vectors: a sentence is split from the stored chunk text by `split_chunk_sentences` (the spans
an eager index stores) and encoded by the collection's own encoder family (the query encoder,
whose compatibility key must be the manifest's). The int8 families encode one text per run, so the
vector equals the eager one bit for bit (tests/store/test_lazy_sentences.py). An fp collection is
indexed by torch (bf16) and questioned by ONNX fp32, one family whose vectors agree to cosine >= 0.9999:
there the lazy vector is the one RAG_SENTENCE_VECTORS=off would encode per question, not the eager one.

Where they are kept: the collection's embedding cache (`embeddings`), under the key an eager index
would give the sentence (sha256 of the encoder's cache namespace and the text), so the next
question, another process, and a later index run of the same text all find it there.

Snapshot semantics and crash safety: the snapshot's held read transaction cannot see rows
committed after it opened, so keys are looked up through a second, autocommit connection that sees
the newest committed cache. A cache entry is addressed by its content and nothing deletes one, so
reading it from a newer state cannot disagree with the snapshot; nothing in a generation (chunks,
manifest, search index) changes. New vectors are written in their own short transaction (INSERT OR
IGNORE): killed mid-way, SQLite rolls it back and nothing refers to the rows. Two readers encoding
the same sentence write the same bytes and the first one stays. When an index run holds the write
lock, storing waits at most WRITE_WAIT_S and is skipped: the vectors still serve this question.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import numpy as np

from rag.chunk.sentences import split_chunk_sentences
from rag.embed.protocols import QueryEncoder
from rag.models import ChunkSentences, Passage
from rag.store import database as db

# A question must not stall behind an index run's commit (which holds SQLite's write lock for seconds):
# storing is a convenience for the next question, so give up quickly.
WRITE_WAIT_S = 0.25


class LazySentences:
    """Read-through cache of sentence vectors over one collection database (shared by a snapshot's threads)."""

    def __init__(self, db_path: Path, encoder: QueryEncoder, dim: int) -> None:
        self.encoder = encoder
        self.dim = dim
        self._lock = threading.Lock()  # one side connection, used by every server thread
        # Opened now, beside the snapshot's own connection: `rag index --rebuild` later swaps another
        # database file in at this path, and this snapshot's vectors must never be written into it.
        self._conn: sqlite3.Connection | None = self._open(db_path)
        self.encoded = 0  # sentences encoded here (not found in the cache), for tests and timings
        self.stored = 0  # of those, written to the cache

    def sentences(self, passages: dict[int, Passage]) -> dict[int, ChunkSentences]:
        """The sentences of these chunks with their vectors: cached ones read, the rest encoded and stored."""
        plan: dict[int, tuple[str, list[tuple[int, int]], list[str]]] = {}
        texts: dict[str, str] = {}
        for row_id, p in passages.items():
            spans = split_chunk_sentences(p.text)
            keys = []
            for s, e in spans:
                key = self.encoder.identity.cache_key(p.text[s:e])
                texts[key] = p.text[s:e]
                keys.append(key)
            plan[row_id] = (p.doc_id, [(p.start + s, p.start + e) for s, e in spans], keys)
        vectors = self._lookup(sorted(texts))
        missing = [k for k in texts if k not in vectors]
        if missing:
            fresh = self.encoder.encode([texts[k] for k in missing])
            self.encoded += len(missing)
            vectors.update(zip(missing, (np.asarray(v, dtype=np.float32) for v in fresh)))
            self._store(missing, fresh)
        return {
            r: ChunkSentences(row_id=r, doc_id=doc_id, spans=spans,
                              vectors=np.stack([vectors[k] for k in keys]) if keys
                              else np.zeros((0, self.dim), dtype=np.float32))
            for r, (doc_id, spans, keys) in plan.items()
        }

    @staticmethod
    def _open(db_path: Path) -> sqlite3.Connection | None:
        try:
            # Autocommit and no held transaction: every look-up sees the newest committed cache.
            conn = sqlite3.connect(str(db_path), isolation_level=None, check_same_thread=False, timeout=WRITE_WAIT_S)
            # A cache: losing the last entries to a power cut costs a re-encode, never consistency (WAL).
            conn.execute("PRAGMA synchronous=NORMAL")
            return conn
        except sqlite3.Error:  # no side connection: sentences are encoded per question, as with `off`
            return None

    def _side(self) -> sqlite3.Connection:
        if self._conn is None:
            raise sqlite3.OperationalError("no side connection (closed, or it could not be opened)")
        return self._conn

    def _lookup(self, keys: list[str]) -> dict[str, np.ndarray]:
        try:
            with self._lock:
                return db.cached_vectors(self._side(), keys, self.dim)
        except sqlite3.Error:  # an unreadable side connection only costs encoding again
            return {}

    def _store(self, keys: list[str], vectors: np.ndarray) -> None:
        rows = [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in zip(keys, vectors)]
        try:
            with self._lock:
                conn = self._side()
                conn.execute("BEGIN IMMEDIATE")  # busy after WRITE_WAIT_S: nothing begun, nothing to undo
                try:
                    conn.executemany("INSERT OR IGNORE INTO embeddings(key, vector) VALUES (?, ?)", rows)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            self.stored += len(rows)
        except sqlite3.Error:  # a writer holds the lock, or the file is read-only: this question is served anyway
            pass

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
