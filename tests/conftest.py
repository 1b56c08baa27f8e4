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


@pytest.fixture(scope="session", autouse=True)
def shared_encoder_dir(onnx_encoder_dir):
    """Every test and every `rag` subprocess finds the ONNX exports in one session folder (made once)
    instead of exporting again under each temporary index folder."""
    before = os.environ.get("RAG_ENCODER_DIR")
    os.environ["RAG_ENCODER_DIR"] = str(onnx_encoder_dir)
    yield onnx_encoder_dir
    if before is None:
        os.environ.pop("RAG_ENCODER_DIR", None)
    else:
        os.environ["RAG_ENCODER_DIR"] = before


@pytest.fixture(scope="session")
def embedder(onnx_encoder_dir):
    """The default document encoder, as `rag index` makes it (RAG_EMBED_QUANTIZATION=auto: int8-all ONNX)."""
    from rag.embed.factory import make_encoder
    from rag.settings import Settings

    return make_encoder(Settings(encoder_dir=onnx_encoder_dir), "document")


@pytest.fixture(scope="session")
def sample_settings(tmp_path_factory, embedder):
    """Settings pointing at a session-wide index of the bundled sample (built once)."""
    from rag.pipeline.indexer import index_paths
    from rag.settings import Settings

    root = tmp_path_factory.mktemp("index")
    # eager: the lookup tests read index-time sentence vectors; lazy ones (the default) are tested in
    # tests/store/test_lazy_sentences.py, answers included.
    settings = Settings(index_dir=root, collection="sample", sentence_vectors="eager")
    corpus = tmp_path_factory.mktemp("corpus") / "sample"
    shutil.copytree(SAMPLE, corpus)
    index_paths([corpus], settings, embedder=embedder)
    return settings


@pytest.fixture(scope="session")
def assistant(sample_settings, embedder):
    from rag.service.assistant import Assistant

    a = Assistant(sample_settings, embedder=embedder)
    yield a
    a.close()


@pytest.fixture(scope="session")
def onnx_encoder_dir(tmp_path_factory) -> Path:
    """One ONNX export of the packaged model per session (about 5 s), shared by every test that needs it."""
    from rag.embed.onnx_export import export_onnx
    from rag.settings import DEFAULT_MODEL

    folder = tmp_path_factory.mktemp("encoders")
    export_onnx(DEFAULT_MODEL, folder, "fp32")
    return folder


@pytest.fixture(scope="session")
def onnx_encoder(onnx_encoder_dir):
    from rag.embed.factory import onnx_encoder
    from rag.settings import DEFAULT_MODEL, Settings

    return onnx_encoder(Settings(encoder_dir=onnx_encoder_dir), DEFAULT_MODEL, "fp32", export=False)
