"""Documents as every front end shows them (the REST API, the OpenAI-compatible route, MCP over stdio
and HTTP): by the uploaded file's name or a path relative to the indexed folder, never the server's
absolute path (which tells a caller the user name, the layout of the disk and where the index lives).

Display only: the store keeps absolute sources (document ids are hashed from them, and
`rag index` compares them); every reply passes through `redacted` on its way out, with the names of
the current generation (`DisplayNames`, one per service, rebuilt when a new generation commits).

Which folder is "the indexed root"? The store does not record the paths given to `rag index`, so
the root is the deepest folder holding every indexed (non-uploaded) file, shown with its own name
first: `sample/000_85e4.txt`. Uploads show as `uploads/<name>`. When the indexed files share no
folder but `/`, each shows as its last two path parts.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
import threading
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel

UPLOADS = "uploads"
TEXT_FIELDS = ("notes", "problems")  # lists of messages that may name a file


class SourceDisplay:
    """Maps stored absolute sources to display names for one collection state."""

    def __init__(self, sources: Iterable[str], uploads_dir: Path) -> None:
        self.uploads = {os.path.abspath(uploads_dir), os.path.realpath(uploads_dir)}
        indexed = sorted({s for s in sources if s and not self._upload_name(s)})
        self.root: str | None = None
        if indexed:
            common = os.path.commonpath(indexed) if all(os.path.isabs(s) for s in indexed) else ""
            if len(indexed) == 1 or common in indexed:  # one file: its folder is the root
                common = os.path.dirname(common or indexed[0])
            self.root = common if common not in ("", os.sep) else None

    def _upload_name(self, source: str) -> str | None:
        for folder in self.uploads:
            if source.startswith(folder.rstrip(os.sep) + os.sep):
                return f"{UPLOADS}/{os.path.relpath(source, folder)}"
        return None

    def __call__(self, source: str) -> str:
        if not source or not os.path.isabs(source):
            return source
        upload = self._upload_name(source)
        if upload is not None:
            return upload
        if self.root is not None and source.startswith(self.root.rstrip(os.sep) + os.sep):
            return os.path.join(os.path.basename(self.root), os.path.relpath(source, self.root))
        parts = Path(source).parts
        return "/".join(parts[-2:]) if len(parts) > 2 else parts[-1]

    def text(self, message: str) -> str:
        """An error or note with every absolute uploads/root prefix replaced by its display form."""
        for folder in self.uploads:
            message = message.replace(folder.rstrip(os.sep) + os.sep, f"{UPLOADS}/")
        if self.root is not None:
            message = message.replace(self.root.rstrip(os.sep) + os.sep, os.path.basename(self.root) + "/")
        return message


def redacted(value: Any, display: SourceDisplay) -> Any:
    """`value` with every `source` field of pydantic models inside it shown by `display`, as a copy.

    Copy on write: only the models and lists on the way to a changed field are copied (shallow
    `model_copy`), the rest is shared. The stored objects (passages may be cached by the snapshot)
    keep their real paths. (A deepcopy then an in-place rewrite cost 0.26 ms CPU per /v1/search response, this 0.19 ms.)
    """
    if isinstance(value, BaseModel):
        update: dict[str, Any] = {}
        for name in type(value).model_fields:
            item = getattr(value, name)
            if name == "source" and isinstance(item, str):
                new = display(item)
            elif name in TEXT_FIELDS and isinstance(item, list):
                new = [display.text(x) if isinstance(x, str) else x for x in item]
            elif name == "reason" and isinstance(item, str):  # why an uploaded file was skipped
                new = display.text(item)
            else:
                new = redacted(item, display)
            if new is not item and new != item:
                update[name] = new
        return value.model_copy(update=update) if update else value
    if isinstance(value, (list, tuple)):
        items = [redacted(x, display) for x in value]
        if any(a is not b for a, b in zip(items, value)):
            return type(value)(items) if isinstance(value, tuple) else items
        return value
    if isinstance(value, dict):
        changed = {k: redacted(v, display) for k, v in value.items()}
        return changed if any(changed[k] is not v for k, v in value.items()) else value
    return value


class _Snapshot(Protocol):
    generation: int

    def documents(self) -> list[Any]: ...


class _Serving(Protocol):
    """What DisplayNames needs of a RagService (typed here: the service module imports this one's callers)."""

    uploads_dir: Path

    @property
    def loaded(self) -> bool: ...

    def assistant(self) -> Any: ...


class DisplayNames:
    """The SourceDisplay of a service's current index generation, rebuilt when a new generation commits."""

    def __init__(self, service: _Serving) -> None:
        self.service = service
        self._cached: tuple[int, SourceDisplay] | None = None
        self._lock = threading.Lock()

    def current(self) -> SourceDisplay:
        """Names for the documents now served (loads nothing: no index loaded yet = uploads named only)."""
        if not self.service.loaded:
            return SourceDisplay([], self.service.uploads_dir)
        snapshot: _Snapshot = self.service.assistant().snapshot
        with self._lock:
            if self._cached is None or self._cached[0] != snapshot.generation:
                self._cached = (snapshot.generation,
                                SourceDisplay([d.source for d in snapshot.documents()], self.service.uploads_dir))
            return self._cached[1]

    def last(self) -> SourceDisplay:
        """The names made last (an error message must never load an index just to be worded)."""
        cached = self._cached
        return cached[1] if cached is not None else SourceDisplay([], self.service.uploads_dir)

    def __call__(self, value: Any) -> Any:
        """`value` (any reply: models, lists, dicts) with server paths shown as display names."""
        return redacted(value, self.current())

    def text(self, message: str) -> str:
        return self.last().text(message)
