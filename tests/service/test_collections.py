"""rag.service.collections: the collections one process serves, made on first use, sharing one encoder (where
the indexes' encoder family matches) and one local model."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.service.collections import Collections
from rag.service.errors import UnknownCollection
from rag.service.local_model import LocalModel
from tests.api.fixtures import two_collections  # noqa: F401
from tests.service.test_local_model import meminfo


def test_names_are_the_folders_holding_an_index(two_collections, tmp_path):  # noqa: F811
    root = two_collections.index_dir
    for junk in ("sample.rebuild", "sample.old", ".hidden", "empty"):  # a rebuild's folders, hidden, no index
        (root / junk).mkdir(exist_ok=True)
    try:
        collections = Collections(two_collections)
        assert collections.names() == ["sample", "notes"]
        assert Collections(two_collections, single=True).names() == ["sample"]
        for name in ("sample.rebuild", "empty", "../sample", "/etc", "x" * 65):
            with pytest.raises(UnknownCollection, match="Collections: sample, notes"):
                collections.get(name)
        assert collections.get() is collections.get("sample") is collections.get("")
        assert collections.get("notes").settings.collection == "notes"
        with pytest.raises(UnknownCollection, match="serves only its -c collection"):
            Collections(two_collections, single=True).get("notes")
    finally:
        for junk in ("sample.rebuild", "sample.old", ".hidden", "empty"):
            (root / junk).rmdir()


def test_one_encoder_for_collections_of_one_encoder_family(two_collections, onnx_encoder_dir):  # noqa: F811
    settings = two_collections.model_copy(update={"encoder_dir": onnx_encoder_dir})
    collections = Collections(settings, role="query")  # no encoder handed in: the first collection loads one
    try:
        assert collections.get("sample").load()
        notes = collections.get("notes")
        assert notes.load() and notes.assistant().embedder is collections.get("sample").assistant().embedder
    finally:
        collections.close()


def test_one_local_model_each_collection_keeps_its_own_settings(two_collections, tmp_path: Path):  # noqa: F811
    model = LocalModel(supervised=True, meminfo=meminfo(tmp_path, 1 * 2**20))  # too little memory: decided "off"
    asked = two_collections.model_copy(update={"local_llm": True, "local_llm_min_memory_gib": 3.0})
    collections = Collections(asked, local_model=model)
    first = collections.get("sample").start().settings
    second = collections.get("notes").start().settings
    assert (first.collection, second.collection) == ("sample", "notes")
    assert not first.local_llm and not second.local_llm and not model.running
    assert collections.get("notes").start().settings is second, "a second start changes nothing"
    collections.close()
