"""The store contract on the local backend (FAISS + bm25s + SQLite generations)."""

from __future__ import annotations

import pytest

from rag.settings import Settings
from rag.store.testing import StoreContractTests


class TestLocalStore(StoreContractTests):
    @pytest.fixture
    def store_settings(self, tmp_path) -> Settings:
        return Settings(index_dir=tmp_path, collection="contract", store="local")
