"""The embedded default backend: FAISS + bm25s files, one folder per generation beside the SQLite file.

Staging writes `gen-N.tmp/` (FAISS, BM25, manifest), fsyncs it and renames it to `gen-N/` (atomic);
SQLite names the generation only after that. Killed before the SQLite commit: `gen-N/` is an
orphan the next writer deletes. The previous generation's folder is kept one generation longer, so
a reader that is just opening it never finds it gone.

Filters: SQLite (this backend's metadata engine) turns the filters into the exact set of allowed
row ids, which FAISS (an id selector) and bm25s (a weight mask) apply inside the search.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import numpy as np

from rag.models import SearchFilters
from rag.store.backend import TIE_MARGIN, ChangeSet, MetadataLookup, Ranked, RowSource
from rag.store.bm25 import BM25Index
from rag.store.faults import crash_point
from rag.store.filters import filters_active
from rag.store.manifest import Manifest, load_manifest, save_manifest
from rag.store.vectors import FaissVectorIndex

MANIFEST_FILE = "manifest.json"
VECTOR_BATCH = 20_000  # cached vectors read from SQLite per FAISS add (bounds memory at ~30 MB for 384-d)


def gen_dir(root: Path, gen: int) -> Path:
    return root / f"gen-{gen:06d}"


class LocalSearchIndex:
    """FAISS + bm25s of one generation, filters resolved to row ids by SQLite."""

    def __init__(self, vectors: FaissVectorIndex, bm25: BM25Index, lookup: MetadataLookup) -> None:
        self.vectors = vectors
        self.bm25 = bm25
        self._lookup = lookup
        self._last: tuple[str, np.ndarray] | None = None  # dense and keyword search share one resolution
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        return self.vectors.size

    def ids(self) -> np.ndarray:
        return self.vectors.ids()

    def _allowed(self, filters: SearchFilters | None) -> np.ndarray | None:
        if not filters_active(filters):
            return None
        assert filters is not None
        key = filters.model_dump_json()
        with self._lock:
            if self._last is not None and self._last[0] == key:
                return self._last[1]
        allowed = self._lookup.row_ids_where(filters)
        with self._lock:
            self._last = (key, allowed)
        return allowed

    def dense(self, query: np.ndarray, k: int, filters: SearchFilters | None = None) -> Ranked:
        scores, ids = self.vectors.search(query, k + TIE_MARGIN, self._allowed(filters))
        return Ranked(ids.astype(np.int64), scores.astype(np.float32)).top(k)

    def keyword(self, query: str, k: int, filters: SearchFilters | None = None) -> Ranked:
        scores, ids = self.bm25.search(query, k + TIE_MARGIN, self._allowed(filters))
        return Ranked(ids.astype(np.int64), scores.astype(np.float32)).top(k)

    def dense_scores(self, query: np.ndarray, ids: list[int]) -> dict[int, float]:
        if not ids:
            return {}
        scores, found = self.vectors.search(query, len(ids), np.array(ids, dtype=np.int64))
        return {int(i): float(s) for i, s in zip(found, scores)}

    def problems(self) -> list[str]:
        if set(self.vectors.ids().tolist()) != set(self.bm25.row_ids.tolist()):
            return ["FAISS ids differ from BM25 row ids"]
        return []

    def close(self) -> None:
        pass


class LocalBackend:
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def recover(self, committed: int, manifest: Manifest | None) -> None:
        """Folders of generations that never committed, or too old for any reader to still be opening."""
        for folder in self.root.glob("gen-*"):
            name = folder.name.removesuffix(".tmp")
            gen = int(name.split("-")[1]) if name.split("-")[1].isdigit() else -1
            if folder.name.endswith(".tmp") or gen > committed or gen < committed - 1:
                shutil.rmtree(folder, ignore_errors=True)

    def stage(self, gen: int, manifest: Manifest, change: ChangeSet, rows: RowSource) -> Manifest:
        manifest = manifest.model_copy(update={"store": self.name})
        row_ids, texts, keys = rows.all_rows()
        vectors = self._next_vectors(gen - 1, manifest, change, row_ids, keys, rows)
        # The previous generation's saved terms: only the chunks this commit adds are analysed (issue 30).
        previous = BM25Index.saved_terms(gen_dir(self.root, gen - 1) / "bm25") if gen > 1 else None
        self._write_generation(gen, manifest, vectors, BM25Index.build(row_ids, texts, previous=previous))
        return manifest

    def published(self, gen: int, manifest: Manifest) -> None:
        save_manifest(self.root / MANIFEST_FILE, manifest)  # convenience copy for people and tools
        self.recover(gen, manifest)

    def open_index(self, gen: int, manifest: Manifest, lookup: MetadataLookup) -> LocalSearchIndex:
        folder = gen_dir(self.root, gen)
        vectors = FaissVectorIndex.load(folder / "vectors.faiss", manifest.vector_index)
        return LocalSearchIndex(vectors, BM25Index.load(folder / "bm25"), lookup)

    def drop(self, manifest: Manifest) -> None:
        pass  # the collection folder (removed by the caller) holds everything

    def _next_vectors(
        self, prev: int, manifest: Manifest, change: ChangeSet, row_ids: np.ndarray, keys: list[str], rows: RowSource
    ) -> FaissVectorIndex:
        kind = manifest.vector_index
        prev_folder = gen_dir(self.root, prev)
        prev_kind = _folder_kind(prev_folder) if prev else None
        if prev_kind == kind == "flat":
            # Incremental: previous FAISS index minus removed rows plus added rows.
            vectors = FaissVectorIndex.load(prev_folder / "vectors.faiss", kind)
            vectors.remove(change.removed)
            if change.added:
                assert change.vectors is not None
                vectors.add(np.array([r.row_id for r in change.added], dtype=np.int64), change.vectors)
            return vectors
        # HNSW cannot delete, and a kind switch needs all rows: rebuild from cached vectors (no re-embedding).
        vectors = FaissVectorIndex.create(manifest.dim, kind)
        for i in range(0, len(keys), VECTOR_BATCH):
            part = keys[i : i + VECTOR_BATCH]
            cache = rows.vectors(list(set(part)))
            vectors.add(row_ids[i : i + VECTOR_BATCH], np.array([cache[k] for k in part], dtype=np.float32))
        return vectors

    def _write_generation(self, gen: int, manifest: Manifest, vectors: FaissVectorIndex, bm25: BM25Index) -> None:
        final = gen_dir(self.root, gen)
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


def _folder_kind(folder: Path) -> str | None:
    try:
        return load_manifest(folder / MANIFEST_FILE).vector_index
    except (FileNotFoundError, json.JSONDecodeError):
        return None
