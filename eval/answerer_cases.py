"""A training case of the evidence model (a question, its retrieved hits, labelled sentence candidates) and the
collection plumbing every source of cases shares: eval/answerer_data.py (sample, seeds, SQuAD) and
eval/rgb_training.py (RGB) both build them, and answerer_data adds RGB's, so the shared part lives here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.adapters import EvalQuestion
from rag.answer.features import Candidates
from rag.embed.torch_encoder import TorchEncoder as Embedder
from rag.models import Article, Hit
from rag.pipeline.indexer import index_paths
from rag.retrieve.hybrid import HybridRetriever
from rag.settings import Settings
from rag.store.collection import Collection
from rag.store.snapshot import Snapshot


@dataclass
class Case:
    dataset: str  # sample-train | sample-test | seeds | squad2 | rgb
    question: EvalQuestion
    group: str  # CV group: the article / paragraph the question is about
    hits: list[Hit]
    candidates: Candidates
    y: np.ndarray  # 1 = the sentence answers the question
    articles: Callable[[str], Article | None]
    test_article: bool = False  # about an article of the sample `test` split: never trained on


class CachedArticles:
    """doc_id -> Article, read once from the snapshot (the snapshot may close before training ends)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self._snap = snapshot
        self._cache: dict[str, Article | None] = {}

    def __call__(self, doc_id: str) -> Article | None:
        if doc_id not in self._cache:
            self._cache[doc_id] = self._snap.article(doc_id)
        return self._cache[doc_id]


def open_collection(paths: list[Path], name: str, settings: Settings,
                    embedder: Embedder) -> tuple[Snapshot, HybridRetriever]:
    """Index `paths` into collection `name` (incremental: reused across runs) and open it for retrieval."""
    s = settings.model_copy(update={"collection": name})
    index_paths(paths, s, progress=False, embedder=embedder)
    snap = Collection(s.collection_dir).open_snapshot()
    return snap, HybridRetriever(snap, embedder, s)
