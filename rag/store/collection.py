"""A collection: one SQLite database (the source of truth) plus a search backend (`backend.py`).

Crash safety, step by step (a process killed at any point leaves the previous index loadable):
1. a write transaction changes documents/chunks/sentences (and their cached vectors) in SQLite
   (not yet visible to anyone);
2. the backend stages generation N: the local backend writes `gen-N.tmp/`, fsyncs and renames it
   to `gen-N/` (atomic); Milvus writes rows tagged with generation N, which readers of N-1 filter out;
3. `generation = N` is written in the same SQLite transaction, which then commits.
Killed before 3: SQLite rolls back and the staged data is an orphan the next writer removes
(`StoreBackend.recover`). Killed after 3: generation N is complete. Readers always open the
generation SQLite names.
"""

from __future__ import annotations

import fcntl
import os
import shlex
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from rag.models import Article, Chunk
from rag.settings import Settings
from rag.store import database as db
from rag.store.backend import ChangeSet, CollectionNotFound, IndexRow, StoreBackend
from rag.store.faults import crash_point
from rag.store.local import MANIFEST_FILE, gen_dir
from rag.store.manifest import FORMAT_VERSION, Manifest, load_manifest
from rag.store.registry import make_backend
from rag.store.snapshot import Snapshot, SqliteLookup

DB_FILE = "rag.sqlite"
LOCK_FILE = ".write.lock"
UPLOADS_DIR = "uploads"  # files added over the API / MCP, inside the collection folder (rag/service)


class CollectionBusy(RuntimeError):
    """Another process holds the collection's writer lock (a RuntimeError, as before)."""


class Collection:
    """`settings` choose the backend of a new collection and where Milvus lives; an existing
    collection's backend is the one its manifest names."""

    def __init__(self, path: Path, settings: Settings | None = None) -> None:
        self.path = Path(path)
        self.settings = settings
        self._watch: _GenerationWatch | None = None
        self._watch_lock = threading.Lock()

    @property
    def db_path(self) -> Path:
        return self.path / DB_FILE

    def exists(self) -> bool:
        return self.generation() > 0

    def generation(self) -> int:
        """The committed generation (0: no collection). Cheap enough to call on every request.

        A long-lived reader (the server checks before each request) keeps one read connection and
        asks SQLite's `PRAGMA data_version`, which moves only when another connection committed:
        ~10 µs instead of opening the database each time (~0.15 ms CPU, twice per /v1/search). The
        file's identity is checked too, since `--rebuild` swaps in a new database file."""
        try:
            st = os.stat(self.db_path)
        except FileNotFoundError:
            return 0
        with self._watch_lock:
            watch = self._watch
            if watch is None or watch.file_id != (st.st_dev, st.st_ino):
                if watch is not None:
                    watch.close()
                self._watch = watch = _GenerationWatch(self.db_path, (st.st_dev, st.st_ino))
            return watch.generation()

    def close(self) -> None:
        """Close the generation watch's read connection (it reopens when asked again)."""
        with self._watch_lock:
            if self._watch is not None:
                self._watch.close()
                self._watch = None

    def rebuild_command(self) -> str:
        """The exact `rag index ... --rebuild` that rebuilds this collection from its sources."""
        roots: list[str] = []
        if self.db_path.exists():
            conn = sqlite3.connect(str(self.db_path), timeout=30)
            try:
                roots = sorted({r[0] for r in conn.execute("SELECT DISTINCT source FROM documents")})
            except sqlite3.OperationalError:
                roots = []
            finally:
                conn.close()
        root = os.path.commonpath(roots) if roots else "PATH"
        if len(roots) == 1 and root == roots[0]:
            root = os.path.dirname(root) or root  # one file: index its folder, as it most likely was
        return f"rag index {shlex.quote(root)} --collection {shlex.quote(self.path.name)} " \
               f"--index-dir {shlex.quote(str(self.path.parent))} --rebuild"

    def manifest(self) -> Manifest | None:
        if not self.exists():
            return None
        conn = db.connect(self.db_path)
        try:
            return _committed_manifest(self.path, conn)[1]
        finally:
            conn.close()

    def backend(self, manifest: Manifest | None, uid: str | None = None) -> StoreBackend:
        return make_backend(self.path, self.settings, manifest, uid)

    def open_snapshot(self, retries: int = 3) -> Snapshot:
        if not self.exists():
            raise CollectionNotFound(
                f"No index at {self.path}. Build one first: `rag index PATH --collection {self.path.name}` "
                f"(or set RAG_INDEX_DIR to where your indexes live)."
            )
        for attempt in range(retries):
            conn = db.connect(self.db_path)
            conn.execute("BEGIN")  # held read transaction: this snapshot's consistent view
            try:
                gen, manifest = _committed_manifest(self.path, conn)
                assert manifest is not None
                if manifest.format_version != FORMAT_VERSION:
                    conn.close()
                    manifest.check_format(self.rebuild_command())
                snap = Snapshot(self.path, conn, gen, manifest)
                snap.index = self.backend(manifest).open_index(gen, manifest, SqliteLookup(snap))
                return snap
            except FileNotFoundError:
                conn.close()  # a writer replaced this generation while we opened it: retry
                if attempt == retries - 1:
                    raise
                time.sleep(0.1)
        raise AssertionError("unreachable")

    @contextmanager
    def writer(self) -> Iterator[CollectionWriter]:
        """Exclusive writer: a file lock keeps two `rag index` runs from interleaving."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / LOCK_FILE, "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise CollectionBusy(
                    f"Another process is writing to {self.path}; wait for it to finish and run again."
                ) from None
            conn = db.connect(self.db_path)
            try:
                # A random id for this SQLite file, so a shared backend names its data the same way
                # on every run, including one after a crash before the first commit.
                conn.execute("INSERT OR IGNORE INTO state(key, value) VALUES ('uid', lower(hex(randomblob(8))))")
                uid = db.get_state(conn, "uid")
                manifest = _committed_manifest(self.path, conn)[1]
                if manifest is not None and self.settings is not None:
                    manifest.check_store(self.settings)
                yield CollectionWriter(self.path, conn, self.backend(manifest, uid), manifest)
            finally:
                conn.close()


class _GenerationWatch:
    """One read connection that re-reads the generation only when `PRAGMA data_version` moved.

    data_version changes whenever another connection (any process) commits to the file; this
    connection never writes, so an unchanged value means an unchanged generation."""

    def __init__(self, db_path: Path, file_id: tuple[int, int]) -> None:
        self.file_id = file_id
        # Only SELECT and PRAGMA run here (never a write); autocommit, so no read transaction is held
        # between calls and checkpoints proceed.
        self._conn = sqlite3.connect(str(db_path), isolation_level=None, check_same_thread=False, timeout=30)
        self._version: int | None = None
        self._generation = 0

    def generation(self) -> int:
        try:
            version = int(self._conn.execute("PRAGMA data_version").fetchone()[0])
            if version != self._version:
                row = self._conn.execute("SELECT value FROM state WHERE key = 'generation'").fetchone()
                self._generation = int(row[0]) if row else 0
                self._version = version
        except sqlite3.OperationalError:  # no state table yet: nothing committed
            self._version = None
            return 0
        return self._generation

    def close(self) -> None:
        self._conn.close()


def _committed_manifest(root: Path, conn: sqlite3.Connection) -> tuple[int, Manifest | None]:
    """The committed generation and its manifest. SQLite holds it (written in the commit's
    transaction); collections from before it did are read from the local generation folder."""
    gen = int(db.get_state(conn, "generation") or 0)
    if not gen:
        return 0, None
    stored = db.get_state(conn, "manifest")
    if stored:
        return gen, Manifest.model_validate_json(stored)
    return gen, load_manifest(gen_dir(root, gen) / MANIFEST_FILE)


class SqliteRows:
    """`RowSource` over the writer's open transaction."""

    def __init__(self, conn: sqlite3.Connection, dim: int) -> None:
        self.conn, self.dim = conn, dim

    def all_rows(self) -> tuple[np.ndarray, list[str], list[str]]:
        return db.all_chunk_rows(self.conn)

    def vectors(self, keys: list[str]) -> dict[str, np.ndarray]:
        return db.cached_vectors(self.conn, keys, self.dim)


class CollectionWriter:
    """Stages one change set (removals, additions) and commits it as a new generation."""

    def __init__(self, root: Path, conn: sqlite3.Connection, backend: StoreBackend, manifest: Manifest | None) -> None:
        self.root = root
        self.conn = conn
        self.backend = backend
        self.generation = int(db.get_state(conn, "generation") or 0)
        self._manifest = manifest
        backend.recover(self.generation, manifest)

    def current_manifest(self) -> Manifest | None:
        return self._manifest

    def doc_ids_by_source(self) -> dict[str, set[str]]:
        return db.doc_ids_by_source(self.conn)

    def cached_vectors(self, keys: list[str], dim: int) -> dict[str, np.ndarray]:
        return db.cached_vectors(self.conn, keys, dim)

    def commit(
        self,
        manifest: Manifest,
        remove_doc_ids: list[str],
        add: list[tuple[Article, list[Chunk], list[str]]],
        new_vectors: dict[str, np.ndarray],
        vector_kind: str,
        sentences: dict[str, list[tuple[int, int, str]]] | None = None,
    ) -> Manifest:
        """Apply removals and additions in one transaction and publish them as generation N+1.

        `add` holds (article, its chunks, the embedding key of each chunk); every key must be in
        the embedding cache or in `new_vectors`. `sentences` maps a chunk id to its sentences
        (article start, article end, embedding key), keys again in the cache or `new_vectors`;
        they are written with their chunk and deleted with it.
        """
        if manifest.sentence_vectors and sentences is None and any(chunks for _, chunks, _ in add):
            raise ValueError("this collection stores sentence vectors: commit() needs `sentences` for added chunks")
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            removed_rows = db.delete_documents(conn, remove_doc_ids)
            db.store_vectors(conn, list(new_vectors), np.array(list(new_vectors.values()), dtype=np.float32))
            change = ChangeSet(removed=removed_rows)
            added_keys: list[str] = []
            for article, chunks, keys in add:
                db.insert_article(conn, article)
                for chunk, key in zip(chunks, keys):
                    row_id = db.insert_chunk(conn, chunk, key)
                    change.added.append(
                        IndexRow(row_id, article.doc_id, f"{article.title}\n{chunk.text}", article.date, article.source)
                    )
                    added_keys.append(key)
                    if sentences is not None:
                        db.insert_sentences(conn, row_id, sentences[chunk.chunk_id])
            crash_point("after_sqlite_changes")
            if added_keys:
                cache = {**db.cached_vectors(conn, sorted(set(added_keys) - set(new_vectors)), manifest.dim), **new_vectors}
                change.vectors = np.array([cache[k] for k in added_keys], dtype=np.float32)
            gen = self.generation + 1
            n_docs = int(conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
            n_chunks = int(conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])
            manifest = manifest.stamped(generation=gen, documents=n_docs, chunks=n_chunks, vector_index=vector_kind)
            manifest = self.backend.stage(gen, manifest, change, SqliteRows(conn, manifest.dim))
            crash_point("after_generation_written")
            db.set_state(conn, "generation", str(gen))
            db.set_state(conn, "manifest", manifest.model_dump_json())
            conn.execute("COMMIT")
            crash_point("after_commit")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self.generation = gen
        self._manifest = manifest
        self.backend.published(gen, manifest)
        return manifest
