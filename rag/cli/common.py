"""Helpers shared by CLI commands: opening a collection for reading, parsing filter flags."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from rag.models import SearchFilters
from rag.retrieve.hybrid import HybridRetriever
from rag.retrieve.rerank import CrossEncoderReranker
from rag.settings import Settings
from rag.store.collection import Collection, CollectionNotFound
from rag.store.manifest import IncompatibleIndex

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def parse_filters(since: str | None, until: str | None, source: str | None) -> SearchFilters | None:
    for name, value in (("--since", since), ("--until", until)):
        if value and not _ISO_DATE.match(value):
            raise typer.BadParameter(f"{name} takes a date as YYYY-MM-DD, got {value!r}")
    if since and until and since[:10] > until[:10]:
        raise typer.BadParameter(f"--since {since} is after --until {until}")
    if not (since or until or source):
        return None
    return SearchFilters(since=since, until=until, source_glob=source)


@contextmanager
def open_retriever(settings: Settings) -> Iterator[HybridRetriever]:
    from rag.cli.main import fail

    collection = Collection(settings.collection_dir)
    try:
        snapshot = collection.open_snapshot()
    except (CollectionNotFound, IncompatibleIndex) as e:
        fail(str(e))
    from rag.embed.factory import make_encoder  # noqa: PLC0415 - loads a model

    # Queries are embedded by the collection's own encoder family (its manifest), whatever the settings say.
    embedder = make_encoder(settings, "query", snapshot.manifest)
    reranker = CrossEncoderReranker(settings.reranker_path) if settings.reranker_path else None
    try:
        yield HybridRetriever(snapshot, embedder, settings, reranker)
    finally:
        snapshot.close()
