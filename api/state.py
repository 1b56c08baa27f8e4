"""What one server process holds: settings, the long-lived Assistant, and the writer lock."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from fastapi import Request

from api.errors import ApiError
from rag.answer.assistant import Assistant
from rag.embed.protocols import DocumentEncoder
from rag.store.manifest import IncompatibleIndex
from rag.settings import Settings
from rag.store.collection import Collection, CollectionNotFound


@dataclass
class AppState:
    settings: Settings
    embedder: DocumentEncoder | None = None
    _assistant: Assistant | None = None
    _load_error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # One upload/delete at a time in this process; the collection's file lock covers other processes.
    write_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def collection(self) -> Collection:
        return Collection(self.settings.collection_dir)

    def try_load(self) -> Assistant | None:
        """Load the Assistant once the collection has an index; remember why it failed otherwise."""
        with self._lock:
            if self._assistant is None:
                try:
                    self._assistant = Assistant(self.settings, embedder=self.embedder, role="server")
                    self._load_error = None
                except (CollectionNotFound, IncompatibleIndex) as e:
                    self._load_error = str(e)
            return self._assistant

    def assistant(self) -> Assistant:
        a = self._assistant or self.try_load()
        if a is None:
            raise ApiError(
                503, "no_index",
                f"No index is loaded for collection {self.settings.collection!r} ({self._load_error}). "
                "Add documents with POST /v1/documents or `rag index PATH`.",
            )
        return a

    @property
    def loaded(self) -> Assistant | None:
        return self._assistant

    def close(self) -> None:
        with self._lock:
            if self._assistant is not None:
                self._assistant.close()
                self._assistant = None


def get_state(request: Request) -> AppState:
    return request.app.state.rag
