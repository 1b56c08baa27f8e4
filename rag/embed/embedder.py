"""Deprecated name kept for branches written before rag/embed/ was split by role.

New code: `from rag.embed.factory import make_encoder` and the protocols in `rag.embed.protocols`.
"""

from rag.embed.paths import cpu_has_bf16, resolve_model_path, resolve_precision
from rag.embed.torch_encoder import TorchEncoder as Embedder

__all__ = ["Embedder", "cpu_has_bf16", "resolve_model_path", "resolve_precision"]
