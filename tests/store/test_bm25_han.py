"""Han-aware keyword search (issue 32): Chinese cut into words, English on exactly its old path, old
indexes queried the way they were built."""

from __future__ import annotations

import json
import lzma
from dataclasses import asdict

import numpy as np

from rag.store.bm25 import DEFAULT_PARAMS, LEGACY_PARAMS, PARAMS_FILE, BM25Index, Bm25Params
from rag.zh.stopwords import STOP_WORDS, is_punct, is_stop
from tests.conftest import SHARED

ZH_DOCS = SHARED / "corpus" / "crud-news-zh" / "docs.txt.xz"


def _analyser(params: Bm25Params = DEFAULT_PARAMS) -> BM25Index:
    return BM25Index(None, np.zeros(0, dtype=np.int64), params)


def _zh_bodies(n: int) -> list[str]:
    assert ZH_DOCS.is_file(), f"missing {ZH_DOCS}"
    with lzma.open(ZH_DOCS, "rt", encoding="utf-8") as fh:
        return [next(fh).rstrip("\n").split("，正文：", 1)[-1] for _ in range(n)]


def test_stop_words_and_punctuation():
    assert {"的", "了", "是", "什么", "多少", "哪"} <= STOP_WORDS
    assert not {"年", "月", "日", "万", "元", "家", "上海", "政府"} & STOP_WORDS  # content and unit words stay
    assert all(is_punct(t) for t in ["，", "。", "“", "”", "（", "）", "《", "》", "、", " ", "", "...", "%"])
    assert not any(is_punct(t) for t in ["上海", "7", "５", "a", "U.S."])
    assert is_stop("的") and is_stop("？") and not is_stop("政府")


def test_han_runs_are_cut_into_words_digits_kept_stop_words_dropped():
    terms = _analyser().tokenize(["上海市政府7月27日发布了173家企业的名单"])[0]
    assert {"上海市政府", "上海", "政府", "发布", "企业", "名单", "7", "月", "27", "日", "173", "家"} <= set(terms)
    assert "的" not in terms and "了" not in terms
    assert _analyser().query_terms("上海市政府发布了173家企业的名单") == ["上海市政府", "发布", "173", "家", "企业", "名单"]
    # The text between runs is split as bm25s splits English: lower-cased, stop words out, stemmed.
    assert _analyser().query_terms("华硕与Philip Colbert的running合作") == ["华硕", "philip", "colbert", "run", "合作"]


def test_english_text_takes_exactly_the_old_path():
    """With or without `han`, a text without Han characters gets the same terms (so an English
    collection ranks as before); a batch mixing both still gives each English text its old terms."""
    english = ["Shanghai opened 1,215 new first-office stores last year", "the of and", "", "A I x 7 cats",
               "Ünïcödé naïve café 12 1,215 e-mail U.S.", "running RUNS ran"]
    for stem in (True, False):
        for stopwords in (True, False):
            old = _analyser(Bm25Params(stem=stem, stopwords=stopwords))
            new = _analyser(Bm25Params(stem=stem, stopwords=stopwords, han=True))
            assert new.tokenize(english) == old.tokenize(english)
            assert [new.query_terms(t) for t in english] == old.tokenize(english)
            mixed = new.tokenize([english[0], "上海市政府发布", english[3]])
            assert mixed[0] == old.tokenize([english[0]])[0] and mixed[2] == old.tokenize([english[3]])[0]
            assert "政府" in mixed[1]


def test_question_terms_are_among_the_chunk_terms_on_chinese_news():
    """A question is cut in precise mode, a chunk in search mode (precise words plus their parts): the
    same text as a question gives only terms the same text as a chunk holds, fewer of them."""
    bodies = _zh_bodies(40)
    idx = _analyser()
    for question, chunk in zip([idx.query_terms(t) for t in bodies], idx.tokenize(bodies)):
        assert set(question) <= set(chunk) and len(question) < len(chunk)
    assert "半年" in idx.tokenize(["上海上半年地区生产总值"])[0]
    assert idx.query_terms("上海上半年地区生产总值") == ["上海", "上半年", "地区", "生产总值"]


def test_chinese_question_finds_its_article_and_sub_words_match():
    bodies = _zh_bodies(300)
    ids = np.arange(100, 100 + len(bodies), dtype=np.int64)
    idx = BM25Index.build(ids, bodies)
    # Article 0: 中国驻德国大使馆 held a reception for the 96th anniversary of the PLA on 27 July.
    scores, got = idx.search("7月27日晚中国驻德国大使馆举行了什么招待会？", 5)
    assert got[0] == 100 and scores[0] > 0
    # A document's long word is indexed with its parts: 政府 alone finds 上海市政府.
    small = BM25Index.build(np.array([1, 2], dtype=np.int64), ["上海市政府今天发布通知", "北京的天气很好"])
    assert small.search("政府", 2)[1].tolist() == [1]
    assert len(small.search("的是什么？", 2)[1]) == 0  # only stop words and punctuation: nothing to match


def test_han_is_recorded_and_old_indexes_are_queried_as_built(tmp_path):
    texts = ["上海市政府今天发布通知", "Shanghai issued a notice today"]
    ids = np.array([1, 2], dtype=np.int64)
    BM25Index.build(ids, texts).save(tmp_path / "new")
    record = json.loads((tmp_path / "new" / PARAMS_FILE).read_text(encoding="utf-8"))
    assert record["han"] is True and DEFAULT_PARAMS.han and not LEGACY_PARAMS.han
    assert BM25Index.load(tmp_path / "new").search("政府", 2)[1].tolist() == [1]

    # An index written before issue 32: its params file has no `han`; a Han run was one term.
    old = BM25Index.build(ids, texts, Bm25Params())
    old.save(tmp_path / "old")
    legacy = {k: v for k, v in asdict(old.params).items() if k != "han"}
    (tmp_path / "old" / PARAMS_FILE).write_text(json.dumps(legacy), encoding="utf-8")
    loaded = BM25Index.load(tmp_path / "old")
    assert loaded.params.han is False
    assert len(loaded.search("政府", 2)[1]) == 0  # the old analyser never split the run
    assert loaded.search("上海市政府今天发布通知", 2)[1].tolist() == [1]
    (tmp_path / "old" / PARAMS_FILE).unlink()  # older still: no params file at all
    assert BM25Index.load(tmp_path / "old").params == LEGACY_PARAMS
