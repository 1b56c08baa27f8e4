"""OnnxEncoder: the same weights in ONNX Runtime, tokenised by `tokenizers`; no torch, no transformers.

Starts in ~0.15 s (import onnxruntime + tokenizers, load the graph) instead of torch's seconds,
which is what a one-shot `rag ask` waits for. The graph (made by `onnx_export.export_onnx`) takes
input_ids / attention_mask / token_type_ids and returns mean-pooled, L2-normalised vectors; a graph
that returns token states instead (e.g. a third-party int8 file) is pooled here the same way.
"""

from __future__ import annotations

import json
import os
from functools import cached_property
from pathlib import Path

import numpy as np

from rag.embed.parallel import run_batches
from rag.embed.protocols import FAMILY_FP, QUANTIZED_FAMILIES, EncoderIdentity

DEFAULT_MAX_TOKENS = 256


def _max_seq_length(model_dir: str) -> int:
    cfg = Path(model_dir) / "sentence_bert_config.json"
    if cfg.exists():
        return int(json.loads(cfg.read_text()).get("max_seq_length", DEFAULT_MAX_TOKENS))
    return DEFAULT_MAX_TOKENS


def session_options(threads: int | None, spinning: bool):  # noqa: ANN201 - onnxruntime type, imported lazily
    """Session options for latency on a shared CPU.

    Full graph optimisation fuses attention, GELU and layer norm; the optimised graph is cached
    beside the model by the export. Thread spinning (busy-waiting between ops) is off by default:
    on a 2-core machine shared with other processes, spinning threads steal the cores the next op needs.
    """
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = threads or min(os.cpu_count() or 1, 4)
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    if spinning:  # spin between the ops of a run only: parked as soon as the run returns
        so.add_session_config_entry("session.force_spinning_stop", "1")
    so.add_session_config_entry("session.inter_op.allow_spinning", "0")
    so.log_severity_level = 3
    return so


class OnnxEncoder:
    """QueryEncoder + DocumentEncoder over an ONNX file of a sentence-transformers model."""

    def __init__(
        self,
        model_name: str,
        onnx_path: Path,
        model_dir: str,
        *,
        precision: str = "fp32",
        batch_size: int = 64,
        batch_tokens: int = 4096,
        threads: int | None = None,
        spinning: bool = False,
        bulk_sessions: int | None = None,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if precision not in ("fp32", *QUANTIZED_FAMILIES):
            raise ValueError(f"OnnxEncoder precision must be fp32, {' or '.join(QUANTIZED_FAMILIES)}, got {precision!r}")
        self.model_name = model_name
        self.onnx_path = Path(onnx_path)
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self.identity = EncoderIdentity(model_name, "onnx", precision, precision if precision in QUANTIZED_FAMILIES else FAMILY_FP)
        self._max_tokens = _max_seq_length(model_dir)
        self._tokenizer_file = str(Path(model_dir) / "tokenizer.json")
        self._tokenizer = Tokenizer.from_file(self._tokenizer_file)
        self._tokenizer.enable_truncation(self._max_tokens)
        self._tokenizer.no_padding()  # padded per batch in _run, to the batch's longest input
        self._threads = threads or min(os.cpu_count() or 1, 4)
        self._session = ort.InferenceSession(
            str(self.onnx_path), session_options(self._threads, spinning), providers=["CPUExecutionProvider"]
        )
        # Bulk encoding (indexing) runs this many single-threaded sessions side by side, one batch
        # each, instead of one session splitting every op over the threads: ops on a batch of a few
        # thousand word pieces are too small to split well (README, issue 11: 0.905x the time with
        # 1,536-word-piece batches on SciFact chunks, 2 cores).
        self._bulk_n = 1 if spinning else (bulk_sessions or self._threads)
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.dim: int = int(self._run([[101, 102]])[0].shape[-1])

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    @cached_property
    def _counter(self):  # noqa: ANN202 - tokenizers.Tokenizer
        """A second tokenizer without truncation, for chunk sizing only: made on first use, because
        parsing tokenizer.json costs ~20 ms of CPU that a one-shot question never needs."""
        from tokenizers import Tokenizer

        counter = Tokenizer.from_file(self._tokenizer_file)
        counter.no_truncation()
        counter.no_padding()
        return counter

    def count_tokens(self, text: str) -> int:
        return len(self._counter.encode(text).ids)

    def count_tokens_batch(self, texts: list[str]) -> list[int]:
        return [len(e.ids) for e in self._counter.encode_batch(texts)]

    def cache_key(self, text: str) -> str:
        return self.identity.cache_key(text)

    @cached_property
    def _bulk(self) -> list:
        """The side-by-side sessions for encode(): made on the first call with several batches
        (a one-shot question never pays for them)."""
        import onnxruntime as ort

        per = max(1, self._threads // self._bulk_n)
        return [ort.InferenceSession(str(self.onnx_path), session_options(per, False), providers=["CPUExecutionProvider"])
                for _ in range(self._bulk_n)]

    def _run(self, ids: list[list[int]], session=None) -> np.ndarray:  # noqa: ANN001 - onnxruntime type
        n = max(len(x) for x in ids)
        input_ids = np.zeros((len(ids), n), dtype=np.int64)
        mask = np.zeros((len(ids), n), dtype=np.int64)
        for i, x in enumerate(ids):
            input_ids[i, : len(x)] = x
            mask[i, : len(x)] = 1
        feed = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(input_ids)
        out = (session or self._session).run(None, feed)[0]
        if out.ndim == 3:  # token states: mean-pool over real tokens, then normalise
            m = mask[..., None].astype(np.float32)
            out = (out * m).sum(1) / np.maximum(m.sum(1), 1e-9)
            out = out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return np.asarray(out, dtype=np.float32)

    def encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        enc = [e.ids for e in self._tokenizer.encode_batch(texts)]
        # Longest first in batches: little padding, like sentence-transformers does.
        order = sorted(range(len(enc)), key=lambda i: -len(enc[i]))
        out = np.empty((len(enc), self.dim), dtype=np.float32)
        # int8 families: one text per run. Dynamic quantisation scales each run's activations by their
        # range, so a batch would make a text's vector depend on its neighbours; alone, a text gets
        # the same vector as when it is a question (encode_query), and with no padding and activations
        # in cache it is also faster (SciFact chunks 0.92x the time of 1,536-word-piece batches).
        max_rows = 1 if self.identity.family in QUANTIZED_FAMILIES else self.batch_size
        batches = [[order[j] for j in part] for part in token_batches([len(enc[i]) for i in order], max_rows, self.batch_tokens)]
        # Each session takes the next batch (rag/embed/parallel.py): the same batches, so the same vectors.
        sessions = self._bulk if self._bulk_n > 1 and len(batches) > 1 else [None]  # None: the query session
        return run_batches(batches, sessions, out, lambda rows, session: self._run([enc[i] for i in rows], session))

    def encode_query(self, text: str) -> np.ndarray:
        return self._run([self._tokenizer.encode(text).ids])[0]


def token_batches(lengths: list[int], max_rows: int, max_tokens: int) -> list[range]:
    """Consecutive batches of inputs sorted longest first: at most `max_rows` rows and at most
    `max_tokens` padded word pieces (rows x the batch's first, longest input), at least one row.

    Smaller batches keep a layer's activations in cache: on SciFact chunks (~165 word pieces) 4,096
    padded word pieces per batch encoded 1.07-1.08x faster than 64 rows (int8-all, medians of 3, quiet)."""
    batches, start = [], 0
    while start < len(lengths):
        rows = max(1, min(max_rows, max_tokens // max(lengths[start], 1)))
        batches.append(range(start, min(start + rows, len(lengths))))
        start += rows
    return batches
