"""A collection on disk: one SQLite database plus one folder per committed generation.

Crash safety, step by step (a process killed at any point leaves the previous index loadable):
1. a write transaction changes documents/chunks/sentences (and their cached vectors) in SQLite
   (not yet visible to anyone);
2. the new generation's FAISS + BM25 + manifest files are written into `gen-N.tmp/`, fsynced,
   and the folder renamed to `gen-N/` (atomic);
3. `generation = N` is written in the same SQLite transaction, which then commits.
Killed before 3: SQLite rolls back and `gen-N/` is an orphan, deleted by the next writer.
Killed after 3: generation N is complete. Readers always load the generation SQLite names.
The writer keeps the previous generation's folder, so a reader that is just opening it never
finds it gone.
"""

from __future__ import annotations

import fcntl
import os
import shlex
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from rag.models import Article, Chunk
from rag.store import database as db
from rag.store.bm25 import BM25Index
from rag.store.faults import crash_point
from rag.store.manifest import FORMAT_VERSION, Manifest, load_manifest, save_manifest
from rag.store.snapshot import Snapshot
from rag.store.vectors import FaissVectorIndex

DB_FILE = "rag.sqlite"
MANIFEST_FILE = "manifest.json"
LOCK_FILE = ".write.lock"


class CollectionNotFound(FileNotFoundError):
    pass


def _gen_dir(root: Path, gen: int) -> Path:
    return root / f"gen-{gen:06d}"


class Collection:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

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
        gen = self.generation()
        return load_manifest(_gen_dir(self.path, gen) / MANIFEST_FILE) if gen else None

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
                gen = int(db.get_state(conn, "generation") or 0)
                folder = _gen_dir(self.path, gen)
                manifest = load_manifest(folder / MANIFEST_FILE)
                if manifest.format_version != FORMAT_VERSION:
                    conn.close()
                    manifest.check_format(self.rebuild_command())
                vectors = FaissVectorIndex.load(folder / "vectors.faiss", manifest.vector_index)
                bm25 = BM25Index.load(folder / "bm25")
                return Snapshot(self.path, conn, gen, manifest, vectors, bm25)
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
                raise RuntimeError(
                    f"Another process is writing to {self.path}; wait for it to finish and run again."
                ) from None
            conn = db.connect(self.db_path)
            try:
                yield CollectionWriter(self.path, conn)
            finally:
                conn.close()


class CollectionWriter:
    """Stages one change set (removals, additions) and commits it as a new generation."""

    def __init__(self, root: Path, conn: sqlite3.Connection) -> None:
        self.root = root
        self.conn = conn
        self.generation = int(db.get_state(conn, "generation") or 0)
        self._remove_orphans()

    def _remove_orphans(self) -> None:
        """Folders of generations that never committed, or too old for any reader to still be opening."""
        for folder in self.root.glob("gen-*"):
            name = folder.name.removesuffix(".tmp")
            gen = int(name.split("-")[1]) if name.split("-")[1].isdigit() else -1
            if folder.name.endswith(".tmp") or gen > self.generation or gen < self.generation - 1:
                shutil.rmtree(folder, ignore_errors=True)

    def current_manifest(self) -> Manifest | None:
        if not self.generation:
            return None
        return load_manifest(_gen_dir(self.root, self.generation) / MANIFEST_FILE)

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
            added_rows: list[int] = []
            added_keys: list[str] = []
            for article, chunks, keys in add:
                db.insert_article(conn, article)
                for chunk, key in zip(chunks, keys):
                    row_id = db.insert_chunk(conn, chunk, key)
                    added_rows.append(row_id)
                    added_keys.append(key)
                    if sentences is not None:
                        db.insert_sentences(conn, row_id, sentences[chunk.chunk_id])
            crash_point("after_sqlite_changes")
            row_ids, bm25_texts, emb_keys = db.all_chunk_rows(conn)
            vectors = self._next_vectors(manifest, vector_kind, removed_rows, added_rows, added_keys, row_ids, emb_keys)
            gen = self.generation + 1
            n_docs = int(conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
            manifest = manifest.stamped(generation=gen, documents=n_docs, chunks=len(row_ids), vector_index=vector_kind)
            self._write_generation(gen, manifest, vectors, BM25Index.build(row_ids, bm25_texts))
            crash_point("after_generation_written")
            db.set_state(conn, "generation", str(gen))
            conn.execute("COMMIT")
            crash_point("after_commit")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self.generation = gen
        save_manifest(self.root / MANIFEST_FILE, manifest)  # convenience copy for people and tools
        self._remove_orphans()
        return manifest

    def _next_vectors(
        self,
        manifest: Manifest,
        kind: str,
        removed_rows: np.ndarray,
        added_rows: list[int],
        added_keys: list[str],
        row_ids: np.ndarray,
        emb_keys: list[str],
    ) -> FaissVectorIndex:
        current = self.current_manifest()
        if current is not None and current.vector_index == kind == "flat":
            # Incremental: previous FAISS index minus removed rows plus added rows.
            vectors = FaissVectorIndex.load(_gen_dir(self.root, self.generation) / "vectors.faiss", kind)
            vectors.remove(removed_rows)
            ids, keys = np.array(added_rows, dtype=np.int64), added_keys
        else:
            # HNSW cannot delete, and a kind switch needs all rows: rebuild from cached vectors (no re-embedding).
            vectors = FaissVectorIndex.create(manifest.dim, kind)
            ids, keys = row_ids, emb_keys
        for i in range(0, len(keys), 20_000):
            part = keys[i : i + 20_000]
            cache = db.cached_vectors(self.conn, list(set(part)), manifest.dim)
            vectors.add(ids[i : i + 20_000], np.array([cache[k] for k in part], dtype=np.float32))
        return vectors

    def _write_generation(self, gen: int, manifest: Manifest, vectors: FaissVectorIndex, bm25: BM25Index) -> None:
        final = _gen_dir(self.root, gen)
        tmp = final.with_name(final.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(final, ignore_errors=True)
        tmp.mkdir(parents=True)
        vectors.save(tmp / "vectors.faiss")
        crash_point("mid_generation_write")
        bm25.save(tmp / "bm25")
        save_manifest(tmp / MANIFEST_FILE, manifest)
        for f in tmp.rglob("*"):
            if f.is_file():  # data on disk before the rename makes the generation visible
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
        tmp.rename(final)
