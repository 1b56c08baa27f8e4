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

    @property
    def db_path(self) -> Path:
        return self.path / DB_FILE

    def exists(self) -> bool:
        return self.db_path.exists() and self.generation() > 0

    def generation(self) -> int:
        if not self.db_path.exists():
            return 0
        conn = sqlite3.connect(str(self.db_path), timeout=30)
        try:
            row = conn.execute("SELECT value FROM state WHERE key = 'generation'").fetchone()
        except sqlite3.OperationalError:
            return 0
        finally:
            conn.close()
        return int(row[0]) if row else 0

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
