"""What the retrieval-lever table is computed from: a built collection's chunks, vectors and queries.

The collection is the one `rag eval --dataset beir` builds (index/eval-beir-scifact): its SQLite
rows give each chunk's text, title, document and dataset id, and its embedding cache gives the
exact vectors FAISS searches. Every lever is then scored from full score matrices (queries x
chunks), so trying fifty fusion settings costs no re-indexing; the chosen default is re-measured
end to end through HybridRetriever.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.adapters import load_beir


@dataclass(frozen=True)
class ChunkTable:
    """Every chunk of the collection in row order, with what each lever needs."""

    row_ids: np.ndarray  # int64, the store's row ids (FAISS ids)
    doc_index: np.ndarray  # int64, position of the chunk's document in `doc_ids`
    doc_ids: tuple[str, ...]  # dataset ids, one per stored document
    titles: tuple[str, ...]  # per chunk
    texts: tuple[str, ...]  # per chunk (title not included)
    vectors: np.ndarray  # float32 (chunks, dim), normalised: the stored embeddings

    @property
    def size(self) -> int:
        return len(self.row_ids)


@dataclass(frozen=True)
class QuerySet:
    name: str  # "tune" or "report"
    qids: tuple[str, ...]
    texts: tuple[str, ...]
    qrels: tuple[dict[str, int], ...]


def load_chunks(collection_dir: Path) -> ChunkTable:
    db = collection_dir / "rag.sqlite"
    if not db.is_file():
        raise SystemExit(f"error: {db} not found: build it first with "
                         "`rag eval --dataset beir --path ../shared/eval/scifact --index-dir index`")
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT c.row_id, d.doc_id, d.meta, d.title, c.text, e.vector FROM chunks c "
            "JOIN documents d ON d.doc_id = c.doc_id JOIN embeddings e ON e.key = c.emb_key ORDER BY c.row_id"
        ).fetchall()
    finally:
        conn.close()
    if not rows:
        raise SystemExit(f"error: {db} holds no chunks with cached vectors")
    position: dict[str, int] = {}
    doc_ids: list[str] = []
    doc_index = []
    for _, doc, meta, *_ in rows:
        if doc not in position:
            position[doc] = len(doc_ids)
            doc_ids.append(json.loads(meta)["id"])
        doc_index.append(position[doc])
    return ChunkTable(
        row_ids=np.array([r[0] for r in rows], dtype=np.int64),
        doc_index=np.array(doc_index, dtype=np.int64),
        doc_ids=tuple(doc_ids),
        titles=tuple(r[3] for r in rows),
        texts=tuple(r[4] for r in rows),
        vectors=np.stack([np.frombuffer(r[5], dtype=np.float32) for r in rows]),
    )


def load_queries(data: Path, split_file: Path, name: str) -> QuerySet:
    evalset = load_beir(data, str(split_file))
    return QuerySet(name, tuple(q.qid for q in evalset.questions), tuple(q.text for q in evalset.questions),
                    tuple(dict(q.relevant) for q in evalset.questions))
