"""Fixtures of the local-model tests (the session index and embedding model come from tests/conftest.py)."""

import pytest

from tests.answer.sample_hits import open_snapshot


@pytest.fixture(scope="module")
def snapshot(sample_settings):
    """A read snapshot of the session's sample index, one per test module (the e2e tests read citations from it)."""
    snap = open_snapshot(sample_settings)
    yield snap
    snap.close()
