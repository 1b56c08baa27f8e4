"""SQLite: documents, chunks, the embedding cache and the committed generation.

SQLite is the source of truth. A chunk's INTEGER PRIMARY KEY is also its FAISS id. WAL mode lets
readers keep reading a consistent snapshot while a writer builds the next generation; a writer
killed mid-transaction leaves the database exactly as it was (rolled back on next open).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np

from rag.models import Article, Chunk, ChunkSentences, DocumentEntry, DocumentInfo, Passage, SearchFilters
from rag.store.filters import sqlite_glob

SCHEMA = """
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    date TEXT,
    tags TEXT NOT NULL,
    span_start INTEGER NOT NULL,
    span_end INTEGER NOT NULL,
    page_start INTEGER,
    page_end INTEGER,
    meta TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_source ON documents(source);
CREATE INDEX IF NOT EXISTS documents_date ON documents(date);
CREATE TABLE IF NOT EXISTS chunks (
    row_id INTEGER PRIMARY KEY AUTOINCREMENT,
    chunk_id TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    n_tokens INTEGER NOT NULL,
    emb_key TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector BLOB NOT NULL);
-- When each document was indexed (UTC), for listings "newest first" with a time. Its own table, so a
-- collection built before it existed opens unchanged (its documents show no time, ordered by row id).
CREATE TABLE IF NOT EXISTS ingested (
    doc_id TEXT PRIMARY KEY REFERENCES documents(doc_id) ON DELETE CASCADE,
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
-- The sentences of each chunk (exact article spans, as answers quote them) and the embedding-cache
-- key of each sentence's vector: written in the chunk's own transaction, so every generation's
-- chunks and sentence vectors agree (format 2).
CREATE TABLE IF NOT EXISTS sentences (
    row_id INTEGER NOT NULL REFERENCES chunks(row_id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    emb_key TEXT NOT NULL,
    PRIMARY KEY (row_id, ordinal)
) WITHOUT ROWID;
"""

_PASSAGE_SELECT = """
SELECT c.row_id, c.chunk_id, c.doc_id, c.text, c.start, c.end, d.title, d.date, d.source, d.page_start, d.page_end
FROM chunks c JOIN documents d ON d.doc_id = c.doc_id
"""


def connect(path: Path) -> sqlite3.Connection:
    """Autocommit connection (isolation_level=None): transactions are explicit BEGIN/COMMIT."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")  # a committed generation survives power loss
    conn.execute("PRAGMA foreign_keys=ON")
    conn.executescript(SCHEMA)
    return conn


def get_state(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_state(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO state(key, value) VALUES (?, ?)", (key, value))


def doc_ids_by_source(conn: sqlite3.Connection) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for doc_id, source in conn.execute("SELECT doc_id, source FROM documents"):
        out.setdefault(source, set()).add(doc_id)
    return out


def insert_article(conn: sqlite3.Connection, article: Article) -> None:
    conn.execute(
        "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (
            article.doc_id,
            article.source,
            article.title,
            article.date,
            json.dumps(list(article.tags)),
            article.span[0],
            article.span[1],
            article.page_start,
            article.page_end,
            json.dumps(article.meta),
            article.text,
        ),
    )
    conn.execute("INSERT OR REPLACE INTO ingested(doc_id) VALUES (?)", (article.doc_id,))


def insert_chunk(conn: sqlite3.Connection, chunk: Chunk, emb_key: str) -> int:
    cur = conn.execute(
        "INSERT INTO chunks(chunk_id, doc_id, ordinal, start, end, text, n_tokens, emb_key) VALUES (?,?,?,?,?,?,?,?)",
        (chunk.chunk_id, chunk.doc_id, chunk.ordinal, chunk.start, chunk.end, chunk.text, chunk.n_tokens, emb_key),
    )
    return int(cur.lastrowid or 0)


def insert_sentences(conn: sqlite3.Connection, row_id: int, sentences: list[tuple[int, int, str]]) -> None:
    """(article start, article end, embedding key) of each sentence of one chunk, in order."""
    conn.executemany(
        "INSERT INTO sentences(row_id, ordinal, start, end, emb_key) VALUES (?,?,?,?,?)",
        [(row_id, i, s, e, k) for i, (s, e, k) in enumerate(sentences)],
    )


def delete_documents(conn: sqlite3.Connection, doc_ids: list[str]) -> np.ndarray:
    """Delete documents, their chunks and the chunks' sentences; return the removed chunk row ids."""
    removed: list[int] = []
    for doc_id in doc_ids:
        removed += [r for (r,) in conn.execute("SELECT row_id FROM chunks WHERE doc_id = ?", (doc_id,))]
        conn.execute("DELETE FROM sentences WHERE row_id IN (SELECT row_id FROM chunks WHERE doc_id = ?)", (doc_id,))
        conn.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
        conn.execute("DELETE FROM ingested WHERE doc_id = ?", (doc_id,))
        conn.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
    return np.array(removed, dtype=np.int64)


def cached_vectors(conn: sqlite3.Connection, keys: list[str], dim: int) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for i in range(0, len(keys), 500):  # stay under SQLite's bound-parameter limit
        part = keys[i : i + 500]
        marks = ",".join("?" * len(part))
        for key, blob in conn.execute(f"SELECT key, vector FROM embeddings WHERE key IN ({marks})", part):
            vec = np.frombuffer(blob, dtype=np.float32)
            if len(vec) == dim:
                out[key] = vec
    return out


def store_vectors(conn: sqlite3.Connection, keys: list[str], vectors: np.ndarray) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO embeddings(key, vector) VALUES (?, ?)",
        [(k, v.astype(np.float32).tobytes()) for k, v in zip(keys, vectors)],
    )


def all_chunk_rows(conn: sqlite3.Connection) -> tuple[np.ndarray, list[str], list[str]]:
    """Row ids, BM25 texts (title + chunk) and embedding keys of every chunk, in row order."""
    rows = conn.execute(
        "SELECT c.row_id, d.title || '\n' || c.text, c.emb_key FROM chunks c "
        "JOIN documents d ON d.doc_id = c.doc_id ORDER BY c.row_id"
    ).fetchall()
    return np.array([r[0] for r in rows], dtype=np.int64), [r[1] for r in rows], [r[2] for r in rows]


def passages(conn: sqlite3.Connection, row_ids: list[int]) -> dict[int, Passage]:
    out: dict[int, Passage] = {}
    for i in range(0, len(row_ids), 500):
        part = [int(r) for r in row_ids[i : i + 500]]
        marks = ",".join("?" * len(part))
        for r in conn.execute(f"{_PASSAGE_SELECT} WHERE c.row_id IN ({marks})", part):
            out[r[0]] = Passage(
                row_id=r[0], chunk_id=r[1], doc_id=r[2], text=r[3], start=r[4], end=r[5], title=r[6], date=r[7],
                source=r[8], page_start=r[9], page_end=r[10],
            )
    return out


def article(conn: sqlite3.Connection, doc_id: str) -> Article | None:
    r = conn.execute(
        "SELECT source, text, title, date, tags, span_start, span_end, page_start, page_end, meta "
        "FROM documents WHERE doc_id = ?",
        (doc_id,),
    ).fetchone()
    if r is None:
        return None
    return Article(
        source=r[0], text=r[1], title=r[2], date=r[3], tags=tuple(json.loads(r[4])), span=(r[5], r[6]),
        page_start=r[7], page_end=r[8], meta=json.loads(r[9]),
    )


def documents(conn: sqlite3.Connection) -> list[DocumentInfo]:
    rows = conn.execute(
        "SELECT d.doc_id, d.source, d.title, d.date, COUNT(c.row_id), LENGTH(d.text) FROM documents d "
        "LEFT JOIN chunks c ON c.doc_id = d.doc_id GROUP BY d.doc_id ORDER BY d.source, d.span_start"
    ).fetchall()
    return [DocumentInfo(doc_id=r[0], source=r[1], title=r[2], date=r[3], chunks=r[4], chars=r[5]) for r in rows]


def document_entries(conn: sqlite3.Connection, preview_chars: int) -> list[DocumentEntry]:
    """Every document with the start of its text and when it was indexed, in file order within each source.

    `newest_row` (the highest chunk row id; AUTOINCREMENT ids are never reused) orders by ingest even where
    no time was recorded."""
    rows = conn.execute(
        "SELECT d.doc_id, d.source, d.title, d.date, COUNT(c.row_id), LENGTH(d.text), substr(d.text, 1, ?), "
        "COALESCE(MAX(c.row_id), 0), i.at FROM documents d LEFT JOIN chunks c ON c.doc_id = d.doc_id "
        "LEFT JOIN ingested i ON i.doc_id = d.doc_id GROUP BY d.doc_id ORDER BY d.source, d.span_start",
        (preview_chars,),
    ).fetchall()
    return [DocumentEntry(doc_id=r[0], source=r[1], title=r[2], date=r[3], chunks=r[4], chars=r[5], preview=r[6],
                          newest_row=r[7], indexed_at=r[8]) for r in rows]


def row_ids_where(conn: sqlite3.Connection, filters: SearchFilters) -> np.ndarray:
    clauses, params = [], []
    if filters.since:
        # Dates are ISO strings, so string comparison is chronological; undated documents never match a date filter.
        clauses.append("d.date >= ?")
        params.append(filters.since)
    if filters.until:
        clauses.append("substr(d.date, 1, 10) <= ?")
        params.append(filters.until[:10])
    if filters.source_glob:
        clauses.append("d.source GLOB ?")
        params.append(sqlite_glob(filters.source_glob))
    if clauses and filters.include_undated and (filters.since or filters.until):
        date_clauses = [c for c in clauses if "d.date" in c]
        other = [c for c in clauses if "d.date" not in c]
        clauses = [f"(d.date IS NULL OR ({' AND '.join(date_clauses)}))", *other]
    where = " AND ".join(clauses) or "1"
    rows = conn.execute(
        f"SELECT c.row_id FROM chunks c JOIN documents d ON d.doc_id = c.doc_id WHERE {where}", params
    ).fetchall()
    return np.array([r[0] for r in rows], dtype=np.int64)


def sentences(conn: sqlite3.Connection, row_ids: list[int], dim: int) -> dict[int, ChunkSentences]:
    """Stored sentences of the given chunks with their vectors; chunks without sentence rows are absent."""
    found: dict[int, tuple[str, list[tuple[int, int]], list[bytes]]] = {}
    for i in range(0, len(row_ids), 500):
        part = [int(r) for r in row_ids[i : i + 500]]
        marks = ",".join("?" * len(part))
        rows = conn.execute(
            "SELECT s.row_id, c.doc_id, s.start, s.end, e.vector FROM sentences s "
            "JOIN chunks c ON c.row_id = s.row_id LEFT JOIN embeddings e ON e.key = s.emb_key "
            f"WHERE s.row_id IN ({marks}) ORDER BY s.row_id, s.ordinal",
            part,
        )
        for row_id, doc_id, start, end, blob in rows:
            if blob is None or len(blob) != 4 * dim:
                raise LookupError(f"sentence vector of chunk {row_id} at {start}:{end} is missing; "
                                  "the collection is damaged: rebuild it with `rag index PATH --rebuild`")
            entry = found.setdefault(row_id, (doc_id, [], []))
            entry[1].append((start, end))
            entry[2].append(blob)
    return {
        r: ChunkSentences(row_id=r, doc_id=d, spans=spans,
                          vectors=np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(spans), dim))
        for r, (d, spans, blobs) in found.items()
    }


def sentence_problems(conn: sqlite3.Connection, dim: int) -> list[str]:
    """Chunks without sentence rows, and sentence rows without a vector (empty when sound)."""
    problems = []
    bare = conn.execute(
        "SELECT COUNT(*) FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM sentences s WHERE s.row_id = c.row_id)"
    ).fetchone()[0]
    if bare:
        problems.append(f"{bare} chunks have no sentence rows")
    orphans = conn.execute(
        "SELECT COUNT(*) FROM sentences s WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.row_id = s.row_id)"
    ).fetchone()[0]
    if orphans:
        problems.append(f"{orphans} sentence rows belong to no chunk")
    missing = conn.execute(
        "SELECT COUNT(*) FROM sentences s LEFT JOIN embeddings e ON e.key = s.emb_key "
        "WHERE e.vector IS NULL OR LENGTH(e.vector) != ?",
        (4 * dim,),
    ).fetchone()[0]
    if missing:
        problems.append(f"{missing} sentence rows have no vector of dimension {dim}")
    return problems


def sources_matching(conn: sqlite3.Connection, glob: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT DISTINCT source FROM documents WHERE source GLOB ?", (glob,))]


def chunk_rows(conn: sqlite3.Connection, row_ids: list[int]) -> list[tuple[int, str, str, str | None, str, str]]:
    """(row id, doc id, keyword text, date, source, embedding key) of the given chunks."""
    out = []
    for i in range(0, len(row_ids), 500):
        part = [int(r) for r in row_ids[i : i + 500]]
        marks = ",".join("?" * len(part))
        out += conn.execute(
            "SELECT c.row_id, c.doc_id, d.title || '\n' || c.text, d.date, d.source, c.emb_key FROM chunks c "
            f"JOIN documents d ON d.doc_id = c.doc_id WHERE c.row_id IN ({marks}) ORDER BY c.row_id", part
        ).fetchall()
    return out
