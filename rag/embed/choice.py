"""Which embedding model (and chunk budget) a collection is indexed with.

    settings_for_collection(settings, manifest, articles)   # the indexer, before it makes the encoder

- An existing collection keeps its manifest's model, unless RAG_EMBEDDING_MODEL is set explicitly (then the
  manifest check refuses a different one, naming `--rebuild`).
- A NEW collection whose first loaded documents are mostly Han script (han_share of their letters
  >= HAN_MAJORITY) gets the multilingual encoder (MULTILINGUAL_MODEL); any other keeps the settings' model
  (MiniLM by default, exactly as before). An explicitly set RAG_EMBEDDING_MODEL always wins.
- A model may bring its own chunk budget (MODEL_CHUNKING), used unless RAG_CHUNK_TOKENS /
  RAG_CHUNK_OVERLAP_TOKENS are set explicitly.

"Explicitly set" is pydantic-settings' `model_fields_set`: environment variables, constructor arguments and
`model_copy(update=...)` (CLI flags) count; defaults do not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from rag.models import Article
from rag.settings import MULTILINGUAL_MODEL, Settings
from rag.zh.script import han_share

# The rule (also stated in Settings.embedding_model's description): Han characters over all letters of the
# first SAMPLE_DOCUMENTS documents loaded (SAMPLE_CHARS of each) at least HAN_MAJORITY.
HAN_MAJORITY = 0.5
SAMPLE_DOCUMENTS = 100
SAMPLE_CHARS = 2_000
# Chunk budget (target, overlap) in the model's own pieces. USE: 256 SentencePiece pieces (~320 Han
# characters, about the content of MiniLM's 200 English word pieces); measured on 86 Chinese and 43 English
# questions over 327 articles, dense hit@5 zh/en: 128 -> 0.84/0.72, 200 -> 0.83/0.67, 256 -> 0.86/0.74,
# 320 -> 0.87/0.74, 400 -> 0.88/0.79: gains past 256 are a question or two, bought with longer passages for
# the answer scorer and reader (docs/DECISIONS.md: multilingual encoder).
MODEL_CHUNKING: dict[str, tuple[int, int]] = {MULTILINGUAL_MODEL: (256, 50)}


class CollectionModel(Protocol):
    """What the choice needs from a collection's manifest (rag.store.manifest.Manifest; the store sits above)."""

    model: str
    chunk_tokens: int
    chunk_overlap_tokens: int


def is_han_majority(articles: Sequence[Article]) -> bool:
    """True when the first documents' letters are mostly Han characters (the auto-pick rule above)."""
    sample = "\n".join(a.text[:SAMPLE_CHARS] for a in articles[:SAMPLE_DOCUMENTS])
    return han_share(sample) >= HAN_MAJORITY


def choose_model(settings: Settings, articles: Sequence[Article]) -> str:
    """The model a NEW collection of `articles` is built with."""
    if "embedding_model" in settings.model_fields_set:
        return settings.embedding_model
    return MULTILINGUAL_MODEL if is_han_majority(articles) else settings.embedding_model


def settings_for_model(settings: Settings, model: str, chunking: tuple[int, int] | None = None) -> Settings:
    """`settings` with `model` and its chunk budget (`chunking`, else MODEL_CHUNKING's) where not set explicitly.
    The same object when nothing changes, so an English collection runs on exactly the settings it was given."""
    update: dict[str, object] = {}
    if model != settings.embedding_model:
        update["embedding_model"] = model
    budget = chunking or MODEL_CHUNKING.get(model)
    if budget is not None:
        for name, value in zip(("chunk_tokens", "chunk_overlap_tokens"), budget):
            if name not in settings.model_fields_set and getattr(settings, name) != value:
                update[name] = value
    return settings.model_copy(update=update) if update else settings


def settings_for_collection(
    settings: Settings, manifest: CollectionModel | None, articles: Sequence[Article] | None
) -> Settings:
    """The settings to index with: the manifest's model for an existing collection, the auto-pick for a new one
    (`articles` = the documents loaded, or None when the caller brings its own encoder: nothing is picked)."""
    if manifest is not None:  # an explicit model other than the manifest's is refused by the manifest check
        model = settings.embedding_model if "embedding_model" in settings.model_fields_set else manifest.model
        return settings_for_model(settings, model, (manifest.chunk_tokens, manifest.chunk_overlap_tokens))
    if articles is None:
        return settings
    return settings_for_model(settings, choose_model(settings, articles))
