"""Fixtures shared by tests/api and tests/browser: a writable copy of the sample index, an app, a live server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.testing import live_server


@pytest.fixture(scope="session")
def api_settings(sample_settings, tmp_path_factory):
    """A private copy of the session's sample index: upload/delete tests must not change the shared one."""
    root = tmp_path_factory.mktemp("api-index")
    shutil.copytree(sample_settings.collection_dir, root / sample_settings.collection)
    return sample_settings.model_copy(update={"index_dir": root, "rate_limit_per_minute": 0})


PEARL = ("Pearl Ring ferris wheel\n\nThe Pearl Ring ferris wheel on the Huangpu riverside carries 48 glass cabins. "
         "It opened to visitors on 9 September 2023 and one turn takes 25 minutes.\n")


@pytest.fixture(scope="session")
def two_collections(sample_settings, embedder, tmp_path_factory):
    """Settings over an index folder with two collections: a copy of the sample (the default) and `notes`, one
    file (pearl-ring.txt) that only it answers from."""
    from rag.pipeline.indexer import index_paths  # noqa: PLC0415

    root = tmp_path_factory.mktemp("collections")
    shutil.copytree(sample_settings.collection_dir, root / sample_settings.collection)
    notes = tmp_path_factory.mktemp("notes-src") / "notes"
    notes.mkdir()
    (notes / "pearl-ring.txt").write_text(PEARL)
    settings = sample_settings.model_copy(update={"index_dir": root, "rate_limit_per_minute": 0})
    index_paths([notes], settings.model_copy(update={"collection": "notes"}), embedder=embedder)
    return settings


@pytest.fixture(scope="session")
def client(api_settings, embedder) -> Iterator[TestClient]:
    with TestClient(create_app(api_settings, embedder=embedder)) as c:
        yield c


@pytest.fixture(scope="session")
def server_url(api_settings, embedder) -> Iterator[str]:
    """A real uvicorn server on 127.0.0.1 (free port) over the writable copy."""
    with live_server(create_app(api_settings, embedder=embedder)) as url:
        yield url


@pytest.fixture(scope="session")
def seed_questions() -> list[dict]:
    from tests.conftest import seeds  # noqa: PLC0415

    return seeds()
