"""Pick a store backend by name (txtai style: one setting, one small factory).

A new collection gets the backend `RAG_STORE` names; an existing one the backend its manifest
records, so readers need no setting to open it. Milvus is imported only when asked for, so the
default install never needs pymilvus.
"""

from __future__ import annotations

from pathlib import Path

from rag.settings import Settings
from rag.store.backend import StoreBackend
from rag.store.local import LocalBackend
from rag.store.manifest import Manifest

BACKENDS = ("local", "milvus")


def make_backend(
    root: Path, settings: Settings | None, manifest: Manifest | None, uid: str | None = None
) -> StoreBackend:
    """`uid` (the SQLite file's random id) names a new collection's data where the backend is shared."""
    name = manifest.store if manifest is not None else (settings.store if settings is not None else "local")
    if name == "local":
        return LocalBackend(root)
    if name == "milvus":
        try:
            from rag.store.milvus import MilvusBackend  # noqa: PLC0415 - optional extra
        except ModuleNotFoundError as e:
            raise RuntimeError(
                f"The collection at {root} uses the Milvus backend, but pymilvus is not installed ({e}). "
                "Install the extra: pip install 'rag[milvus]'."
            ) from None
        return MilvusBackend.for_collection(root, settings, manifest, uid)
    raise ValueError(f"Unknown store backend {name!r}: use one of {', '.join(BACKENDS)} (RAG_STORE).")
