"""The store contract on the Milvus backend, through embedded Milvus Lite (one file per module:
opening one costs about a second, so the tests share it with a collection each)."""

from __future__ import annotations

import itertools

import pytest

from rag.settings import Settings
from rag.store.testing import StoreContractTests

import pymilvus  # noqa: E402,F401

_names = itertools.count()


@pytest.fixture(scope="module")
def lite_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("milvus")


class TestMilvusLiteStore(StoreContractTests):
    @pytest.fixture
    def store_settings(self, lite_dir) -> Settings:
        return Settings(index_dir=lite_dir, collection=f"contract{next(_names)}", store="milvus")
