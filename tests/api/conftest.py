"""tests/api fixtures (defined in tests/api/fixtures.py so tests/browser can share them)."""

from tests.api.fixtures import api_settings, client, seed_questions, server_url, two_collections  # noqa: F401
