"""Copy the embedding cache of one collection into a new (empty) collection folder.

    python -m eval.bench.seed_cache index/eval-beir-scifact/rag.sqlite /tmp/milvus-idx/eval-beir-scifact

Used to compare store backends on the same corpus without embedding it twice: the new collection's
first `rag index` finds every chunk vector in its cache (keys are sha256(model, text), so only
vectors of identical texts from the same model are reused). The vectors are the same by
construction; what the comparison then measures is the store, not the encoder.
"""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

from rag.store import database as db


def seed(source_db: Path, collection_dir: Path) -> int:
    collection_dir.mkdir(parents=True, exist_ok=True)
    target = collection_dir / "rag.sqlite"
    conn = db.connect(target)
    try:
        if db.get_state(conn, "generation"):
            raise SystemExit(f"{collection_dir} already holds an index; seed only a new collection.")
        conn.execute("ATTACH DATABASE ? AS src", (f"file:{source_db}?mode=ro",))
        conn.execute("BEGIN")
        conn.execute("INSERT OR IGNORE INTO embeddings SELECT key, vector FROM src.embeddings")
        conn.execute("COMMIT")
        return int(conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0])
    finally:
        conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source_db", type=Path)
    ap.add_argument("collection_dir", type=Path)
    a = ap.parse_args()
    print(f"{seed(a.source_db, a.collection_dir)} cached vectors in {a.collection_dir}")


if __name__ == "__main__":
    main()
