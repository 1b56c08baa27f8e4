"""The collections one process serves: a name -> RagService registry for the HTTP API and the MCP server.

`rag serve` (or `rag mcp`) without `-c` serves every collection in the index folder; each request names
one (`collection`) or gets the default, RAG_COLLECTION. A collection's service is made on first use and
kept; all of them share the local model (one llama.cpp process) and, where their indexes were built by
the same encoder family (the manifest's compatibility key), one loaded embedding model. A collection
indexed while the server runs (`rag index -c NEW`) is served from its first request; a name that is
not a collection in the folder is refused with the list of those that are, never turned into a path.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from rag.embed.factory import Role
from rag.embed.protocols import DocumentEncoder
from rag.service.core import RagService
from rag.service.display import DisplayNames
from rag.service.errors import UnknownCollection
from rag.service.local_model import LocalModel
from rag.settings import COLLECTION_NAME, Settings
from rag.store.collection import Collection

STAGING_SUFFIXES = (".rebuild", ".old")  # a rebuild's folders beside the collection (rag/pipeline/indexer.py)


class Collections:
    """Services by collection name, made on first use. `single`: serve only `settings.collection`."""

    def __init__(self, settings: Settings, *, embedder: DocumentEncoder | None = None, role: Role = "server",
                 local_model: LocalModel | None = None, single: bool = False) -> None:
        self.settings = settings
        self.default = settings.collection
        self.single = single
        self.local_model = local_model if local_model is not None else LocalModel(supervised=role == "server")
        self._embedder = embedder  # tests share one loaded model
        self._role = role
        self._services: dict[str, RagService] = {}
        self._names: dict[str, DisplayNames] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ which collections
    def names(self) -> list[str]:
        """The collections served: the default (even before it has an index: uploads create it) and, unless
        single, every folder of the index directory holding a committed index; sorted, the default first."""
        found = {self.default}
        if not self.single and self.settings.index_dir.is_dir():
            found |= {p.name for p in self.settings.index_dir.iterdir() if self._is_collection(p)}
        return sorted(found, key=lambda n: (n != self.default, n))

    def _is_collection(self, path: Path) -> bool:
        if not re.fullmatch(COLLECTION_NAME, path.name) or path.name.endswith(STAGING_SUFFIXES) or not path.is_dir():
            return False
        collection = Collection(path)
        try:
            return collection.exists()
        finally:
            collection.close()

    def _served(self, name: str) -> bool:
        if name == self.default or name in self._services:
            return True
        return not self.single and self._is_collection(self.settings.index_dir / name)

    # ------------------------------------------------------------------ services
    def get(self, name: str | None = None) -> RagService:
        """The service of collection `name` (None or "": the default); UnknownCollection lists the served ones."""
        name = (name or "").strip() or self.default
        service = self._services.get(name)
        if service is not None:
            return service
        if not self._served(name):
            known = ", ".join(self.names())
            how = ("this server serves only its -c collection" if self.single
                   else f"index one with `rag index PATH --collection {name}` first" if re.fullmatch(COLLECTION_NAME, name)
                   else "names are 1-64 letters, digits, '.', '_' or '-'")
            raise UnknownCollection(f"No collection {name[:80]!r} here ({how}). Collections: {known}.")
        with self._lock:
            if name not in self._services:
                settings = self.settings.model_copy(update={"collection": name})  # a checked folder name, never a path
                self._services[name] = RagService(settings, embedder=self._shared_encoder(settings), role=self._role,
                                                  local_model=self.local_model)
                self._names[name] = DisplayNames(self._services[name])
            return self._services[name]

    def display_names(self, service: RagService) -> DisplayNames:
        """The display names of a service this registry made (rag/service/display.py)."""
        return self._names[service.settings.collection]

    def _shared_encoder(self, settings: Settings) -> DocumentEncoder | None:
        """An embedding model already loaded for another collection built by the same encoder family, or None
        (the new service loads the one its own manifest names)."""
        if self._embedder is not None:
            return self._embedder
        collection = Collection(settings.collection_dir)
        try:
            manifest = collection.manifest()
        finally:
            collection.close()
        if manifest is None:
            return None
        for service in self._services.values():
            if service.loaded:
                encoder = service.assistant().embedder
                if encoder.identity.compat_key == manifest.encoder_key:
                    return encoder  # type: ignore[return-value]  # make_encoder's server encoders also embed documents
        return None

    def loaded(self) -> list[RagService]:
        return list(self._services.values())

    def close(self) -> None:
        """Close every service, then the shared local model (each service's close stops it too: idempotent)."""
        with self._lock:
            services = list(self._services.values())
        for service in services:
            service.close()
        self.local_model.stop()
