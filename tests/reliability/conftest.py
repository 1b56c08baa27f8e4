"""A server of its own for the reliability suite (hostile uploads must not touch other tests' index)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from api.app import create_app
from api.testing import live_server

# Small bounds keep the generated "huge" files small; the behaviour is the same at the defaults.
MAX_FILE_BYTES = 1_000_000
MAX_BODY_BYTES = 3_000_000


@pytest.fixture(scope="module")
def rel_settings(sample_settings, tmp_path_factory):
    root = tmp_path_factory.mktemp("reliability-index")
    shutil.copytree(sample_settings.collection_dir, root / sample_settings.collection)
    return sample_settings.model_copy(update={
        "index_dir": root, "rate_limit_per_minute": 0, "ingest_max_file_bytes": MAX_FILE_BYTES,
        "max_body_bytes": MAX_BODY_BYTES})


@pytest.fixture(scope="module")
def rel_url(rel_settings, embedder) -> Iterator[str]:
    with live_server(create_app(rel_settings, embedder=embedder)) as url:
        yield url
