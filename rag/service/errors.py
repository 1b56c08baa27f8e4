"""Errors the service raises; each front end (CLI, HTTP, MCP) shows them its own way.

Every error carries a stable `code` (the HTTP API's error code) and a message that says what to do.
"""

from __future__ import annotations

from rag.store.collection import CollectionNotFound
from rag.store.manifest import IncompatibleIndex


class ServiceError(Exception):
    code = "invalid_request"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class InvalidRequest(ServiceError, ValueError):
    """The caller's input is wrong (empty question, bad date, unknown mode...); a ValueError too, so library
    callers that catch ValueError for bad arguments keep working."""


class NoIndex(ServiceError):
    """The collection has no committed index yet."""

    code = "no_index"


class DocumentNotFound(ServiceError):
    code = "document_not_found"


class FileNotFound(DocumentNotFound):
    """No indexed file by that name or id (rag/service/files.py)."""

    code = "file_not_found"


class UnknownCollection(ServiceError):
    """A request named a collection this process does not serve; the message lists the ones it does."""

    code = "collection_not_found"


class IndexBusy(ServiceError):
    """Another process holds the collection's writer lock."""

    code = "index_busy"


class Incompatible(ServiceError):
    """The collection was built with another model or chunking; the message names the fix."""

    code = "incompatible_index"


class NothingIndexed(ServiceError):
    """Every uploaded file was skipped; `results` says why, per file."""

    code = "nothing_indexed"

    def __init__(self, message: str, results: list, code: str | None = None) -> None:  # list[FileResult]
        super().__init__(message, code)
        self.results = results


class translate_store_errors:  # noqa: N801 - used as `with translate_store_errors():`
    """Store exceptions -> service errors with the same advice (a context manager, no state)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, _tb: object) -> bool:
        if exc is None or isinstance(exc, ServiceError):
            return False
        if isinstance(exc, IncompatibleIndex):
            raise Incompatible(str(exc)) from exc
        if isinstance(exc, CollectionNotFound):
            raise NoIndex(str(exc)) from exc
        if isinstance(exc, RuntimeError) and "Another process is writing" in str(exc):
            raise IndexBusy(str(exc)) from exc
        return False
