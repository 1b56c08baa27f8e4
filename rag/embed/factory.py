"""One place that turns settings (and a collection's manifest) into an encoder.

    make_encoder(settings, "document")            # indexing: bulk chunks and sentences, token counting
    make_encoder(settings, "query", manifest)     # one-shot CLI questions: ONNX when exported (no torch)
    make_encoder(settings, "server", manifest)    # long-running server: the faster backend, measured here

With a manifest, the model and vector family come from the collection, never from the current
settings: a collection is always queried by vectors of the kind it was built with.
`settings.embed_backend` (auto | torch | onnx) forces a backend; auto is what the table in the
README measured: torch for fp indexing, ONNX for one-shot questions, measured for the server.
The multilingual model (MULTILINGUAL_MODEL) is one packaged ONNX file: `UseEncoder` for every role.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol

from rag.embed.protocols import (
    QUANTIZED_FAMILIES,
    DocumentEncoder,
    EncoderUnavailable,
    QueryEncoder,
    quantization_family,
)
from rag.settings import MULTILINGUAL_MODEL, Settings

Role = Literal["document", "query", "server"]


class CollectionModel(Protocol):
    """What an encoder needs from a collection: rag.store.manifest.Manifest is one (the store sits above
    the encoders, so this module names the two fields instead of importing it)."""

    model: str
    encoder_family: str

BACKENDS = ("auto", "torch", "onnx")


def encoder_dir(settings: Settings) -> Path:
    """Where ONNX exports live: RAG_ENCODER_DIR, else `<index_dir>/.encoders`."""
    return Path(settings.encoder_dir) if settings.encoder_dir else settings.index_dir / ".encoders"


def settings_family(settings: Settings) -> str:
    return quantization_family(settings.embed_quantization)


def make_encoder(settings: Settings, role: Role, manifest: CollectionModel | None = None) -> DocumentEncoder:
    """An encoder for `role`; the model and family come from `manifest` when one is given."""
    if settings.embed_backend not in BACKENDS:
        raise ValueError(f"Unknown embed_backend {settings.embed_backend!r}: use one of {', '.join(BACKENDS)}.")
    model = manifest.model if manifest is not None else settings.embedding_model
    if model == MULTILINGUAL_MODEL:  # one file, one backend: every role gets the same encoder
        return use_encoder(settings)
    family = manifest.encoder_family if manifest is not None else settings_family(settings)
    backend = settings.embed_backend
    if family in QUANTIZED_FAMILIES:  # torch has no int8 path here: ONNX only; the family names its file
        first = onnx_encoder(settings, model, family, export=True)
        if role != "server":
            return first
        return measured_onnx(settings, model, family, first, torch_too=False)
    if role == "document":
        return torch_encoder(settings, model) if backend != "onnx" else onnx_encoder(settings, model, "fp32", True)
    if backend == "torch":
        return torch_encoder(settings, model)
    if backend == "onnx":
        return onnx_encoder(settings, model, "fp32", export=True)
    if not has_onnx(settings, model, "fp32"):
        return torch_encoder(settings, model)  # not exported yet (`rag index` exports it): correct, slower start
    if role == "query":
        return onnx_encoder(settings, model, "fp32", export=False)
    return measured_onnx(settings, model, "fp32", onnx_encoder(settings, model, "fp32", export=False), torch_too=True)


def measured_onnx(settings: Settings, model: str, precision: str, first: DocumentEncoder, torch_too: bool) -> DocumentEncoder:
    """The server's encoder: `first` now; a few seconds later the faster of it, a spinning session of
    the same file for lone questions and (fp32 only: same vectors) torch, timed on this machine."""
    from rag.embed.measured import MeasuredEncoder, SpinWhenAlone  # noqa: PLC0415

    def others() -> list[tuple[str, DocumentEncoder]]:
        spinning = onnx_encoder(settings, model, precision, export=False, spinning=True)
        found: list[tuple[str, DocumentEncoder]] = [("onnx-spin", SpinWhenAlone(spinning, first))]
        return found + ([("torch", torch_encoder(settings, model))] if torch_too else [])

    return MeasuredEncoder.start(first, others, label="onnx")


def use_encoder(settings: Settings) -> DocumentEncoder:
    """The multilingual Universal Sentence Encoder (rag/embed/use_encoder.py). A query is 0.5 ms on one core, so
    the server needs no measured second backend."""
    from rag.embed.use_encoder import UseEncoder  # noqa: PLC0415

    return UseEncoder(MULTILINGUAL_MODEL, threads=settings.onnx_threads, bulk_sessions=settings.onnx_bulk_sessions)


def torch_encoder(settings: Settings, model: str) -> DocumentEncoder:
    from rag.embed.torch_encoder import TorchEncoder  # noqa: PLC0415 - torch only when asked for

    return TorchEncoder(model, settings.device, settings.embed_batch_size, settings.embed_precision)


def has_onnx(settings: Settings, model: str, precision: str) -> bool:
    """True when questions on `model` can start without torch: its ONNX export exists (the multilingual model's
    file ships packaged, nothing to export)."""
    from rag.embed.onnx_export import onnx_file  # noqa: PLC0415

    if model == MULTILINGUAL_MODEL:
        return True

    try:
        return onnx_file(encoder_dir(settings), model, precision).exists()
    except FileNotFoundError:
        return False


def onnx_encoder(settings: Settings, model: str, precision: str, export: bool, spinning: bool = False) -> DocumentEncoder:
    from rag.embed.onnx_encoder import OnnxEncoder  # noqa: PLC0415
    from rag.embed.onnx_export import export_onnx, onnx_file  # noqa: PLC0415
    from rag.embed.paths import resolve_model_path  # noqa: PLC0415

    path = onnx_file(encoder_dir(settings), model, precision)
    if not path.exists():
        if not export:
            raise EncoderUnavailable(f"No ONNX export of {model!r} ({precision}) at {path}; run `rag index` once.")
        path = export_onnx(model, encoder_dir(settings), precision)
    return OnnxEncoder(model, path, resolve_model_path(model), precision=precision,
                       batch_size=settings.embed_batch_size, batch_tokens=settings.embed_batch_tokens,
                       threads=settings.onnx_threads, spinning=spinning,
                       bulk_sessions=settings.onnx_bulk_sessions)


def ensure_exported(settings: Settings, model: str | None = None) -> Path | None:
    """Make the fp32 ONNX file of the model if it is missing (needs torch; about 5 s, once).

    `rag index` calls this so that later one-shot questions never import torch. Returns the path,
    or None when the model cannot be exported (reported by the caller, never fatal: queries fall
    back to torch).
    """
    from rag.embed.onnx_export import export_onnx  # noqa: PLC0415

    return export_onnx(model or settings.embedding_model, encoder_dir(settings), "fp32")
