"""Collection.generation() keeps one read connection and re-reads only when SQLite says another
connection committed (PRAGMA data_version); it must still see every commit and a swapped-in file."""

from __future__ import annotations

import os
import shutil

from rag.store import database as db
from rag.store.collection import DB_FILE, Collection


def _set_generation(path, gen: int) -> None:  # noqa: ANN001
    conn = db.connect(path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        db.set_state(conn, "generation", str(gen))
        conn.execute("COMMIT")
    finally:
        conn.close()


def test_generation_follows_commits_and_a_swapped_file(tmp_path):
    folder = tmp_path / "coll"
    coll = Collection(folder)
    assert coll.generation() == 0 and not coll.exists(), "no folder yet"
    folder.mkdir()
    _set_generation(folder / DB_FILE, 1)
    assert coll.generation() == 1 and coll.exists()
    for gen in (2, 3):  # commits by other connections, as a writer process makes them
        _set_generation(folder / DB_FILE, gen)
        assert coll.generation() == gen
    assert coll.generation() == 3, "unchanged: the cached value"

    # `rag index --rebuild` swaps in another folder with another database file.
    fresh = tmp_path / "coll.rebuild"
    fresh.mkdir()
    _set_generation(fresh / DB_FILE, 1)
    old = tmp_path / "coll.old"
    folder.rename(old)
    assert coll.generation() == 0, "between the two renames there is no collection"
    fresh.rename(folder)
    shutil.rmtree(old)
    assert coll.generation() == 1
    _set_generation(folder / DB_FILE, 2)
    assert coll.generation() == 2

    coll.close()
    assert coll.generation() == 2, "reopens after close"
    coll.close()
    os.remove(folder / DB_FILE)
    assert coll.generation() == 0
