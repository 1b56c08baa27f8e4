"""What every CLI command shares: the consoles, settings from flags, failing with a message, the common
options, opening the service, filter flags.

Kept apart from main.py so that the command modules (ask, serve, evaluate, mcp) import it and main.py
imports them, with no circle between main.py and its commands.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, Optional

import typer
from pydantic import ValidationError
from rich.console import Console

from rag.models import SearchFilters
from rag.settings import Settings

if TYPE_CHECKING:
    from rag.service import RagService

out = Console()
err = Console(stderr=True)

CollectionOpt = Annotated[Optional[str], typer.Option("--collection", "-c", help="Collection name (RAG_COLLECTION)")]
IndexDirOpt = Annotated[Optional[Path], typer.Option("--index-dir", help="Where indexes live (RAG_INDEX_DIR)")]


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]Error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def make_settings(collection: str | None = None, index_dir: Path | None = None, **extra: object) -> Settings:
    overrides = {k: v for k, v in {"collection": collection, "index_dir": index_dir, **extra}.items() if v is not None}
    try:
        return Settings(**overrides)
    except ValidationError as e:  # show which setting is wrong and why, not a traceback or a docs URL
        fail("Invalid setting: " + "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg'].removeprefix('Value error, ')}" for err in e.errors()))
    except Exception as e:  # noqa: BLE001 - e.g. an unreadable .env: say so, no traceback
        fail(f"Invalid setting: {e}")


def parse_filters(since: str | None, until: str | None, source: str | None) -> SearchFilters | None:
    from rag.service import ServiceError, make_filters  # noqa: PLC0415 - see open_service

    try:
        return make_filters(since, until, source)
    except ServiceError as e:
        raise typer.BadParameter(e.message) from None


@contextmanager
def open_service(settings: Settings) -> Iterator[RagService]:
    """The service for one command; a ServiceError ends the command with its message (exit 1)."""
    # rag.service loads FAISS, bm25s and scipy (~0.8 s): `rag --help` and `rag eval` never open the service
    from rag.service import RagService, ServiceError  # noqa: PLC0415

    service = RagService(settings)
    try:
        yield service
    except ServiceError as e:
        fail(e.message)
    finally:
        service.close()
