"""Shared fixtures: one real embedding model and one index of the bundled sample per test session."""

from __future__ import annotations

import json
import os
import shutil
import unicodedata
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "eval" / "seeds_dev.jsonl"


def fold(text: str) -> str:
    """NFKC + whitespace folding + casefold: how evidence strings are compared."""
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


def seeds() -> list[dict]:
    return [json.loads(line) for line in SEEDS.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def embedder():
    from rag.embed.embedder import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def sample_settings(tmp_path_factory, embedder):
    """Settings pointing at a session-wide index of the bundled sample (built once)."""
    from rag.pipeline.indexer import index_paths
    from rag.settings import Settings

    root = tmp_path_factory.mktemp("index")
    settings = Settings(index_dir=root, collection="sample")
    corpus = tmp_path_factory.mktemp("corpus") / "sample"
    shutil.copytree(SAMPLE, corpus)
    index_paths([corpus], settings, embedder=embedder)
    return settings


@pytest.fixture(scope="session")
def assistant(sample_settings, embedder):
    from rag.answer.assistant import Assistant

    a = Assistant(sample_settings, embedder=embedder)
    yield a
    a.close()
