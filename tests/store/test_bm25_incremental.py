"""A commit analyses only the chunks it adds (issue 30), and its BM25 index is exactly the index built
from every text: same ids, same scores, bit for bit, over commits that add, change and delete documents."""

from __future__ import annotations

import lzma
from pathlib import Path

import bm25s
import numpy as np
import pytest

from rag.store.bm25 import DEFAULT_PARAMS, LEGACY_PARAMS, BM25Index, Bm25Params
from rag.store.bm25_terms import TERMS_FILE
from tests.conftest import SHARED

REPO = Path(__file__).resolve().parents[2]
ZH_DOCS = SHARED / "corpus" / "crud-news-zh" / "docs.txt.xz"


def _english() -> list[str]:
    """Paragraphs of the sample documents, a few hundred chunks of real English text."""
    paras = [p.strip() for f in sorted((REPO / "data" / "sample").glob("*.txt"))
             for p in f.read_text(encoding="utf-8").split("\n\n")]
    return [p for p in paras if len(p) > 40]


def _chinese(n: int = 60) -> list[str]:
    assert ZH_DOCS.is_file(), f"missing {ZH_DOCS}"
    with lzma.open(ZH_DOCS, "rt", encoding="utf-8") as fh:
        return [next(fh).rstrip("\n") for _ in range(n)]


class Counting:
    """Counts the texts BM25Index.tokenize analyses."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.texts = 0
        original = BM25Index.tokenize

        def tokenize(index: BM25Index, texts: list[str]) -> list[list[str]]:
            self.texts += len(texts)
            return original(index, texts)

        monkeypatch.setattr(BM25Index, "tokenize", tokenize)


def _same_index(got: BM25Index, texts: list[str], row_ids: np.ndarray, params: Bm25Params, queries: list[str]) -> None:
    scratch = BM25Index.build(row_ids, texts, params)
    # The index before issue 30: bm25s given the terms as strings (it builds its own vocabulary).
    strings = bm25s.BM25(method=params.method, k1=params.k1, b=params.b, delta=params.delta)
    strings.index(scratch.tokenize(texts), show_progress=False)
    assert got.row_ids.tolist() == row_ids.tolist()
    assert got.terms is not None and got.terms.row_ids.tolist() == row_ids.tolist()
    matched = 0
    for q in queries:
        terms = got.query_terms(q)
        want = strings.get_scores(terms)
        assert np.array_equal(got.retriever.get_scores(terms), want), q
        assert np.array_equal(scratch.retriever.get_scores(terms), want), q
        g, s = got.search(q, 10), scratch.search(q, 10)
        assert g[1].tolist() == s[1].tolist() and np.array_equal(g[0], s[0]), q
        matched += len(g[1])
    assert matched > 0  # the queries match something: the comparison is not vacuous


def _commits(texts: list[str], params: Bm25Params, queries: list[str], tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> None:
    """Four generations: build, add, change (a document's chunk replaced under a new id) and delete,
    each built from the previous generation's saved terms and compared with a build from every text."""
    pool = iter(range(len(texts)))
    live = {rid: texts[next(pool)] for rid in range(1, 31)}
    next_id = 31
    counting = Counting(monkeypatch)
    index = BM25Index.build(np.array(sorted(live), dtype=np.int64), [live[r] for r in sorted(live)], params)
    assert counting.texts == 30
    for step in ("add", "change", "delete"):
        if step == "add":
            added = {next_id + i: texts[next(pool)] for i in range(5)}
        elif step == "change":  # an edited document: old chunks deleted, its new text under new ids
            for rid in (3, 17):
                del live[rid]
            added = {next_id: live[5] + " 更新 updated", next_id + 1: texts[next(pool)]}
        else:
            for rid in (1, 2, next_id - 1):
                del live[rid]
            added = {}
        live.update(added)
        next_id += len(added)
        folder = tmp_path / step
        index.save(folder)
        assert (folder / TERMS_FILE).is_file()
        row_ids = np.array(sorted(live), dtype=np.int64)
        counting.texts = 0
        index = BM25Index.build(row_ids, [live[r] for r in row_ids], params, previous=BM25Index.saved_terms(folder))
        assert counting.texts == len(added), step  # only the new chunks were analysed
        _same_index(index, [live[r] for r in row_ids], row_ids, params, queries)
        assert len(index.terms.vocab) == len(set(index.terms.vocab))


def test_incremental_english_equals_full_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _english()
    assert len(texts) >= 40
    queries = ["Shanghai consumption vouchers", "mayor research", "robot innovation center", "updated"]
    _commits(texts, DEFAULT_PARAMS, queries, tmp_path, monkeypatch)


def test_incremental_chinese_equals_full_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    queries = ["中国人民解放军建军招待会", "南非企业贸易", "中国驻德国大使馆", "更新 updated", "7月27日"]
    _commits(_chinese(), DEFAULT_PARAMS, queries, tmp_path, monkeypatch)


def test_bm25_plus_scores_every_row_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """BM25+ gives rows without a term a score too: a term only deleted rows held must leave the vocabulary."""
    _commits(_chinese(), Bm25Params(method="bm25+", han=True), ["中国大使馆", "企业贸易"], tmp_path, monkeypatch)


def test_terms_of_other_params_or_changed_text_are_analysed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _chinese(12)
    ids = np.arange(1, 13, dtype=np.int64)
    BM25Index.build(ids, texts, LEGACY_PARAMS).save(tmp_path / "legacy")
    counting = Counting(monkeypatch)
    index = BM25Index.build(ids, texts, DEFAULT_PARAMS, previous=BM25Index.saved_terms(tmp_path / "legacy"))
    assert counting.texts == 12  # recorded with other params (Han runs whole): a full analysis
    _same_index(index, texts, ids, DEFAULT_PARAMS, ["中国大使馆", "招待会"])
    index.save(tmp_path / "new")
    counting.texts = 0
    texts[4] = texts[4] + "上海市政府"  # same row id, other text: never trusted
    again = BM25Index.build(ids, texts, DEFAULT_PARAMS, previous=BM25Index.saved_terms(tmp_path / "new"))
    assert counting.texts == 1
    _same_index(again, texts, ids, DEFAULT_PARAMS, ["中国大使馆", "招待会"])


def test_index_without_terms_file_rebuilds_from_text(tmp_path: Path) -> None:
    assert BM25Index.saved_terms(tmp_path / "absent") is None
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / TERMS_FILE).write_bytes(b"not an npz")
    assert BM25Index.saved_terms(tmp_path / "bad") is None
