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
