"""Errors the service raises; each front end (CLI, HTTP, MCP) shows them its own way.

Every error carries a stable `code` (the HTTP API's error code) and a message that says what to do.
"""

from __future__ import annotations


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
