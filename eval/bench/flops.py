"""How close embedding runs to the machine's matrix-multiply limit.

FLOPs per token of a BERT-style encoder, from the model's config (h = hidden_size,
i = intermediate_size, L = num_hidden_layers, s = tokens in the sequence):

    per layer, per token:  Q, K, V and output projections   4 * 2*h*h   (a multiply-add = 2 FLOPs)
                           feed-forward up and down          2 * 2*h*i
                           attention scores QK^T and A.V     2 * 2*s*h
    total = L * (8*h*h + 4*h*i + 4*s*h)

For all-MiniLM-L6-v2 (h=384, i=1536, L=6) that is 21.2 MFLOP + 0.0138 MFLOP * s per token:
22.9 MFLOP at s=128. Layer norms, softmax, GELU, embeddings and pooling are O(h) per token and
left out (under 1%). The limit is the best fp32 GEMM rate torch reaches on this machine for a
matrix of the shape the feed-forward layer multiplies, with the threads embedding uses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class EncoderShape:
    hidden: int
    intermediate: int
    layers: int

    def flops_per_token(self, seq_len: float) -> float:
        h, i = self.hidden, self.intermediate
        return self.layers * (8 * h * h + 4 * h * i + 4 * seq_len * h)


def encoder_shape(model_name: str) -> EncoderShape:
    from transformers import AutoConfig  # noqa: PLC0415

    from rag.embed.paths import resolve_model_path  # noqa: PLC0415

    cfg = AutoConfig.from_pretrained(resolve_model_path(model_name))
    return EncoderShape(cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers)


def gemm_gflops(threads: int, rows: int = 8192, inner: int = 384, cols: int = 1536, repeats: int = 10) -> float:
    """Best fp32 GFLOP/s of a (rows x inner) @ (inner x cols) torch matmul on `threads` threads."""
    import torch  # noqa: PLC0415

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        a = torch.randn(rows, inner, dtype=torch.float32)
        b = torch.randn(inner, cols, dtype=torch.float32)
        torch.matmul(a, b)  # warm-up: first call allocates and picks kernels
        best = float("inf")
        for _ in range(repeats):
            t = time.perf_counter()
            torch.matmul(a, b)
            best = min(best, time.perf_counter() - t)
    finally:
        torch.set_num_threads(before)
    return 2 * rows * inner * cols / best / 1e9
