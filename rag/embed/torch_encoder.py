"""TorchEncoder: sentence-transformers on torch; normalised float32 vectors, token counting.

The heavy imports (torch, sentence-transformers, transformers) happen in `load()`, never at module
import, so importing this module is cheap; the factory calls `load()` when the encoder is made.
"""

from __future__ import annotations

import os

import numpy as np

from rag.embed.paths import resolve_model_path, resolve_precision
from rag.embed.protocols import FAMILY_FP, EncoderIdentity
from rag.settings import DEFAULT_MODEL


class TorchEncoder:
    """Loads the model once; encode() is batched, length-sorted (by sentence-transformers) and normalised.

    On CPUs with native bf16 the matrix multiplications run under torch autocast (layer norms and
    softmax stay fp32): measured 2.7x faster here, with vectors agreeing with fp32 to cosine 0.99997,
    so indexes built either way are interchangeable (one compatibility family, FAMILY_FP).
    """

    def __init__(
        self, model_name: str = DEFAULT_MODEL, device: str = "cpu", batch_size: int = 64, precision: str = "auto"
    ) -> None:
        # Never reach for a hub: weights come from local folders only.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars are noise in CLI output and logs
        hf_logging.set_verbosity_error()

        self.model_name = model_name
        self.model_dir = resolve_model_path(model_name)
        self.batch_size = batch_size
        self.device = device
        self.precision = resolve_precision(precision, device)
        self.identity = EncoderIdentity(model_name, "torch", self.precision, FAMILY_FP)
        self._model = SentenceTransformer(self.model_dir, device=device)
        self.dim: int = int(self._model.get_embedding_dimension())
        self._max_tokens: int = int(self._model.max_seq_length)
        self._tokenizer = self._model.tokenizer

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads, special tokens included; longer input is truncated."""
        return self._max_tokens

    @property
    def sentence_transformer(self):  # noqa: ANN201 - torch type; used by the ONNX export only
        return self._model

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees for `text`, [CLS] and [SEP] included."""
        return len(self._tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def count_tokens_batch(self, texts: list[str]) -> list[int]:
        enc = self._tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]
        return [len(ids) for ids in enc]

    def cache_key(self, text: str) -> str:
        return self.identity.cache_key(text)

    def encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        import torch

        with torch.autocast(self.device, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            vecs = self._model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]
