"""The manifest: what a collection was built with, so incompatible settings are refused, never mixed."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, Field

from rag.embed.protocols import FAMILY_FP, FAMILY_PACKAGED, EncoderIdentity, compat_key, quantization_family
from rag.files import atomic_write
from rag.settings import Settings

# 2: encoder identity + compatibility key; sentence rows with vectors (rag/store/database.py).
FORMAT_VERSION = 2


class IncompatibleIndex(RuntimeError):
    """The collection was built with another model or chunking than the one asked for."""


class Manifest(BaseModel):
    format_version: int = Field(FORMAT_VERSION, description="On-disk layout version")
    model: str = Field(description="Embedding model the vectors were made with")
    dim: int = Field(description="Vector dimension")
    chunk_tokens: int
    chunk_overlap_tokens: int
    title_prefix: bool
    fingerprint: str = Field(description="Hash of model and chunking parameters")
    vector_index: str = Field("flat", description="flat (exact inner product) or hnsw")
    precision: str = Field("fp32", description="Embedding arithmetic (fp32, bf16 autocast: same vectors to 1e-4; int8; int8-all)")
    encoder_backend: str = Field("torch", description="Runtime that built the vectors: torch or onnx")
    encoder_family: str = Field(
        FAMILY_FP, description="Vector family: 'fp' (fp32/bf16/ONNX fp32, interchangeable), 'int8' or 'int8-all' (each its "
        "own), 'packaged' (a model shipped in one form, e.g. the multilingual USE: RAG_EMBED_QUANTIZATION does not apply)"
    )
    encoder_key: str = Field("", description="Compatibility key: queries must come from an encoder with this key")
    sentence_vectors: bool = Field(
        False, description="Every chunk's sentences are stored with their vectors at index time (RAG_SENTENCE_VECTORS="
        "eager); False: none, or embedded on first use (lazy, rag/store/sentence_cache.py)")
    store: str = Field("local", description="Search backend holding the vectors and keyword index (RAG_STORE)")
    store_uri: str | None = Field(
        None, description="Where that backend keeps the data (Milvus URI); None = its default beside the collection"
    )
    store_collection: str | None = Field(None, description="The backend's own name for this collection's data")
    bm25_params: dict[str, str | float | bool] | None = Field(
        None,
        description="BM25 parameters (rag.store.bm25.Bm25Params) of a backend whose keyword index is built once "
        "and updated in place (Milvus); None = the parameters every index used before this field existed. "
        "The local backend rebuilds BM25 per generation and keeps them in its bm25_params.json.",
    )
    generation: int = 0
    documents: int = 0
    chunks: int = 0
    updated_at: str = ""

    @classmethod
    def for_settings(
        cls, settings: Settings, dim: int, precision: str = "fp32", identity: EncoderIdentity | None = None
    ) -> Manifest:
        identity = identity or EncoderIdentity(settings.embedding_model, "torch", precision)
        return cls(
            precision=identity.precision,
            encoder_backend=identity.backend,
            encoder_family=identity.family,
            encoder_key=identity.compat_key,
            sentence_vectors=settings.sentence_vector_mode == "eager",
            model=settings.embedding_model,
            dim=dim,
            chunk_tokens=settings.chunk_tokens,
            chunk_overlap_tokens=settings.chunk_overlap_tokens,
            title_prefix=settings.title_prefix,
            fingerprint=settings.chunking_fingerprint(),
        )

    def check_format(self, rebuild_command: str = "rag index PATH --rebuild") -> None:
        """Refuse a layout this program cannot read, naming the exact command that rebuilds it."""
        if self.format_version != FORMAT_VERSION:
            raise IncompatibleIndex(
                f"This index has format version {self.format_version}; this program reads and writes "
                f"{FORMAT_VERSION} (encoder identity, sentence vectors). Rebuild it once: `{rebuild_command}`"
            )

    def check_compatible(self, settings: Settings, rebuild_command: str = "rag index PATH --rebuild") -> None:
        """Refuse to add vectors made with other settings than the collection's (writers call this)."""
        self.check_format(rebuild_command)
        # auto (the default) takes the collection's family; a named one must be the collection's. A packaged
        # model has one form only: the quantization setting (a MiniLM export choice) does not apply to it.
        named = settings.embed_quantization != "auto" and self.encoder_family != FAMILY_PACKAGED
        family = quantization_family(settings.embed_quantization) if named else self.encoder_family
        if family != self.encoder_family or self.encoder_key != compat_key(self.model, self.encoder_family):
            raise IncompatibleIndex(
                f"This collection holds {self.encoder_family!r} vectors ({self.encoder_key}); you asked for "
                f"{family!r} (RAG_EMBED_QUANTIZATION={settings.embed_quantization}). Vectors of different "
                f"families are never mixed: use the original setting, another --collection, or `{rebuild_command}`."
            )
        if self.fingerprint != settings.chunking_fingerprint():
            raise IncompatibleIndex(
                "This collection was built with "
                f"model={self.model!r}, chunk_tokens={self.chunk_tokens}, overlap={self.chunk_overlap_tokens}, "
                f"title_prefix={self.title_prefix}; you asked for model={settings.embedding_model!r}, "
                f"chunk_tokens={settings.chunk_tokens}, overlap={settings.chunk_overlap_tokens}, "
                f"title_prefix={settings.title_prefix}. Vectors from different settings are never mixed: "
                f"use the original settings, another --collection, or `{rebuild_command}` to re-embed everything."
            )

    def check_store(self, settings: Settings) -> None:
        if self.store != settings.store:
            raise IncompatibleIndex(
                f"This collection is stored in the {self.store!r} backend; you asked for RAG_STORE={settings.store!r}. "
                f"Use RAG_STORE={self.store}, or move it with `RAG_STORE={settings.store} rag index PATH --rebuild`."
            )

    def stamped(self, **update: object) -> Manifest:
        return self.model_copy(update={**update, "updated_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})


def write_json_atomic(path: Path, data: str) -> None:
    """A reader sees the old or the new file, never half of one (rag.files.atomic_write)."""
    atomic_write(path, data)


def save_manifest(path: Path, manifest: Manifest) -> None:
    write_json_atomic(path, manifest.model_dump_json(indent=2))


def load_manifest(path: Path) -> Manifest:
    return Manifest.model_validate(json.loads(path.read_text(encoding="utf-8")))
