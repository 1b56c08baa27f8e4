"""Where the heavy indexing steps run: in this process (`local`) or as a Ray Data job (`ray`).

The indexer's flow (load -> diff by document id -> chunk the new documents -> embed what the cache
lacks -> commit) is the same for every engine; an engine only executes three steps, and every
engine executes them with the functions below, so document ids, chunks and vectors are identical.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from rag.chunk.chunker import Chunker
from rag.embed.protocols import DocumentEncoder
from rag.ingest.discover import load_paths
from rag.models import Article, Chunk, LoadResult
from rag.settings import Settings

ENGINES = ("local", "ray")
EMBED_BATCH_GROUP = 512  # texts per progress step; encode() still batches by settings.embed_batch_size


@dataclass
class ChunkedArticles:
    chunks: list[Chunk]
    inputs: dict[str, str]  # chunk id -> the exact text embedded (title prefix included)


def make_chunker(embedder: DocumentEncoder, settings: Settings) -> Chunker:
    return Chunker(
        embedder.count_tokens_batch,
        embedder.max_tokens,
        chunk_tokens=settings.chunk_tokens,
        overlap_tokens=settings.chunk_overlap_tokens,
        title_prefix=settings.title_prefix,
    )


def chunk_articles(chunker: Chunker, articles: Sequence[Article]) -> ChunkedArticles:
    """Chunks of `articles` and the string each was sized for (a long title is shortened in the prefix only)."""
    chunks = chunker.chunk_many(list(articles))
    by_id = {a.doc_id: a for a in articles}
    return ChunkedArticles(chunks, {c.chunk_id: chunker.embedding_text(by_id[c.doc_id], c) for c in chunks})


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        disable=not enabled,
        transient=False,
    )


def embed_missing(
    embedder: DocumentEncoder, texts_by_key: dict[str, str], progress: bool, what: str = "chunks"
) -> dict[str, np.ndarray]:
    """Embed texts longest-first in groups so the progress bar moves and padding stays small."""
    keys = sorted(texts_by_key, key=lambda k: len(texts_by_key[k]), reverse=True)
    out: dict[str, np.ndarray] = {}
    with _progress(progress) as bar:
        task = bar.add_task(f"Embedding {what}", total=len(keys))
        for i in range(0, len(keys), EMBED_BATCH_GROUP):
            part = keys[i : i + EMBED_BATCH_GROUP]
            vecs = embedder.encode([texts_by_key[k] for k in part])
            out.update(zip(part, vecs))
            bar.advance(task, len(part))
    return out


class IndexEngine(Protocol):
    name: str

    def load(self, paths: list[Path]) -> LoadResult:
        """Parse every supported file under `paths` (same rules and problems as `load_paths`)."""
        ...

    def chunk(self, articles: list[Article]) -> ChunkedArticles: ...

    def embed(self, texts_by_key: dict[str, str], progress: bool, what: str = "chunks") -> dict[str, np.ndarray]:
        """Normalised float32 vectors by embedding cache key (the keys the driver's encoder made)."""
        ...


class LocalEngine:
    """Everything in this process, with the indexer's own encoder."""

    name = "local"

    def __init__(self, embedder: DocumentEncoder, settings: Settings) -> None:
        self.embedder, self.settings = embedder, settings

    def load(self, paths: list[Path]) -> LoadResult:
        return load_paths(paths)

    def chunk(self, articles: list[Article]) -> ChunkedArticles:
        return chunk_articles(make_chunker(self.embedder, self.settings), articles)

    def embed(self, texts_by_key: dict[str, str], progress: bool, what: str = "chunks") -> dict[str, np.ndarray]:
        return embed_missing(self.embedder, texts_by_key, progress, what)
