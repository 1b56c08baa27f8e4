"""Milvus reproduces the local BM25 ranking for non-default parameters too, and records them.

The sample's chunks (title + text, as the product indexes them) go into a Milvus Lite collection
created with non-default k1, b, stemming and stop words; its keyword search must return the
same chunks with the same scores as a bm25s index built with those parameters. Methods Milvus
cannot compute are refused with advice, never approximated.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest

from rag.store.backend import ChangeSet, IndexRow
from rag.store.bm25 import DEFAULT_PARAMS, Bm25Params, BM25Index
from rag.store.manifest import IncompatibleIndex, Manifest
from rag.store.milvus import MilvusBackend
from tests.conftest import seeds

DIM = 4  # the vectors play no part here


class _NoFilters:
    def row_ids_where(self, filters):  # noqa: ANN001, ANN201
        raise AssertionError("searched without filters")

    sources_matching = row_ids_where


def _rows(assistant) -> list[IndexRow]:
    snap = assistant.snapshot
    ids = [int(i) for i in snap.index.ids()]
    return [IndexRow(r, p.doc_id, f"{p.title}\n{p.text}", p.date, p.source) for r, p in snap.passages(ids).items()]


def _manifest(params: Bm25Params | None) -> Manifest:
    return Manifest(model="t", dim=DIM, chunk_tokens=0, chunk_overlap_tokens=0, title_prefix=False, fingerprint="t",
                    store="milvus", bm25_params=asdict(params) if params else None)


def _stage(tmp_path, rows: list[IndexRow], params: Bm25Params | None) -> tuple[MilvusBackend, Manifest]:
    backend = MilvusBackend(str(tmp_path / "milvus.db"), None, "rag_bm25_1", "rag_bm25", None)
    vectors = np.ones((len(rows), DIM), dtype=np.float32) / 2
    return backend, backend.stage(1, _manifest(params), ChangeSet(added=rows, vectors=vectors), rows=None)  # type: ignore[arg-type]


@pytest.mark.parametrize("params", [Bm25Params(k1=0.9, b=0.4, stem=False, stopwords=False),
                                    Bm25Params(k1=2.0, b=1.0)], ids=["k1_0.9-b_0.4-unstemmed", "k1_2-b_1-stemmed"])
def test_non_default_params_rank_as_bm25s(assistant, tmp_path, params):
    rows = _rows(assistant)
    backend, manifest = _stage(tmp_path, rows, params)
    assert manifest.bm25_params == asdict(params)  # recorded: readers and later writers use these
    index = backend.open_index(1, manifest, _NoFilters())
    local = BM25Index.build(np.array([r.row_id for r in rows], dtype=np.int64), [r.keyword_text for r in rows], params)
    checked = 0
    for q in seeds():
        want_scores, want_ids = local.search(q["question"], 10)
        got = index.keyword(q["question"], 10)
        # ties may fall either side of the cut: compare the ranks whose scores are not tied at the end
        n = int(np.sum(want_scores > want_scores[-1] * (1 + 1e-4))) if len(want_scores) else 0
        assert got.ids[:n].tolist() == want_ids[:n].tolist(), q["id"]
        assert got.scores[:n] == pytest.approx(want_scores[:n], rel=1e-3)
        checked += n
    assert checked > 50


def test_params_are_fixed_at_creation_and_unknown_methods_refused(assistant, tmp_path):
    rows = _rows(assistant)[:20]
    backend, manifest = _stage(tmp_path, rows, None)
    assert manifest.bm25_params == asdict(DEFAULT_PARAMS)  # a new collection takes today's default, recorded
    with pytest.raises(IncompatibleIndex, match="cannot be reproduced by Milvus.*RAG_STORE=local"):
        _stage(tmp_path / "plus", rows, Bm25Params(method="bm25+"))
