"""Helpers shared by CLI commands: opening the service, filter flags, service errors as messages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from rag.models import SearchFilters
from rag.service import RagService, ServiceError, make_filters
from rag.settings import Settings


def parse_filters(since: str | None, until: str | None, source: str | None) -> SearchFilters | None:
    try:
        return make_filters(since, until, source)
    except ServiceError as e:
        raise typer.BadParameter(e.message) from None


@contextmanager
def open_service(settings: Settings) -> Iterator[RagService]:
    """The service for one command; a ServiceError ends the command with its message (exit 1)."""
    from rag.cli.main import fail

    service = RagService(settings)
    try:
        yield service
    except ServiceError as e:
        fail(e.message)
    finally:
        service.close()
