"""Real passages of the bundled sample as Hits: the session index from tests/conftest.py, searched
with the product's HybridRetriever, or picked by a substring when a test needs a given passage."""

from __future__ import annotations

import numpy as np

from rag.models import Article, Citation, Hit
from rag.retrieve.hybrid import HybridRetriever
from rag.store.collection import Collection
from rag.store.snapshot import Snapshot


def open_snapshot(settings) -> Snapshot:  # noqa: ANN001 - Settings
    return Collection(settings.collection_dir).open_snapshot()


def retrieve(snapshot: Snapshot, embedder, settings, question: str, k: int = 5) -> list[Hit]:  # noqa: ANN001
    return HybridRetriever(snapshot, embedder, settings).search(question, k).hits


def hits_containing(snapshot: Snapshot, embedder, question: str, needles: list[str]) -> list[Hit]:  # noqa: ANN001
    """One Hit per needle, in order: the first chunk whose text contains it, scored like retrieval."""
    passages = snapshot.passages(list(range(snapshot.size)))
    q = embedder.encode_query(question)
    hits = []
    for needle in needles:
        p = next((p for p in passages.values() if needle in p.text), None)
        assert p is not None, f"no sample chunk contains {needle!r}"
        dense = float(np.dot(embedder.encode([p.text])[0], q))
        hits.append(Hit(passage=p, score=dense, dense_score=dense, fused_score=dense))
    return hits


def assert_citation_exact(citation: Citation, article: Article | None) -> None:
    assert article is not None
    assert article.text[citation.start : citation.end] == citation.quote
    assert citation.quote.strip() == citation.quote and citation.quote
