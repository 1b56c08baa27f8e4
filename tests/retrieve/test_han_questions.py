"""Retrieval over Chinese news (issue 32): Chinese and English questions find their article; a date named
in the question falls back to all dates when only undated articles pass its filter."""

from __future__ import annotations

import lzma

import pytest

from rag.retrieve.dates import date_filter_from_question
from tests.conftest import SHARED

ZH_DOCS = SHARED / "corpus" / "crud-news-zh" / "docs.txt.xz"
# 1-based lines of docs.txt.xz: the embassy's Army Day reception in Berlin (dated 2023-07-28), Xiamen before
# typhoon Doksuri (2023-07-27), the first supermoon of 2023 (2023-07-31), and the culture ministry's
# notice on summer scenic spots, whose prefix carries no date.
LINES = {"embassy": 1, "typhoon": 25, "moon": 34, "undated": 21}


@pytest.fixture(scope="module")
def zh_assistant(tmp_path_factory):
    from rag.pipeline.indexer import index_paths  # noqa: PLC0415
    from rag.service.assistant import Assistant  # noqa: PLC0415
    from rag.settings import Settings  # noqa: PLC0415

    assert ZH_DOCS.is_file(), f"missing {ZH_DOCS}"
    with lzma.open(ZH_DOCS, "rt", encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    folder = tmp_path_factory.mktemp("zh-news") / "news"
    folder.mkdir()
    for name, n in LINES.items():
        (folder / f"{name}.txt").write_text(lines[n - 1] + "\n", encoding="utf-8")
    settings = Settings(index_dir=tmp_path_factory.mktemp("zh-index"), collection="news")
    index_paths([folder], settings)
    a = Assistant(settings)
    yield a
    a.close()


def _top_source(result) -> str:
    return result.hits[0].passage.source.rsplit("/", 1)[-1]


@pytest.mark.parametrize("question", ["7月27日晚中国驻德国大使馆举行了什么招待会？", "建军96周年招待会在哪里举行"])
def test_chinese_questions_find_their_article(zh_assistant, question):
    result = zh_assistant.search(question, k=3)
    assert _top_source(result) == "embassy.txt"
    assert not result.filters.automatic  # a day and month without a year set no filter, as in English


def test_chinese_date_mentions_set_no_filter():
    """A Chinese question names the period its figure belongs to (2022年营收, 截至2023年6月30日), which a news
    article reports in a later month: a filter on it would hide the article, so none is set."""
    for question in ["2022年我国机器人产业营业收入是多少？", "截至2023年6月30日，华住中国酒店的综合日均房价是多少？",
                     "7月27日晚中国驻德国大使馆举行了什么招待会？"]:
        assert date_filter_from_question(question) is None


def test_year_matching_only_undated_articles_falls_back_to_all_dates(zh_assistant):
    """No article is dated 2022, but the undated one passes an automatic filter: that alone is not a
    document of 2022, so the search says so and searches all dates."""
    result = zh_assistant.search("What reception did the Chinese embassy in Germany hold in 2022?", k=3)
    assert any("searched all dates" in n for n in result.notes), result.notes
    assert not result.filters.automatic
    assert "embassy.txt" in {h.passage.source.rsplit("/", 1)[-1] for h in result.hits}


def test_year_with_dated_articles_keeps_its_filter(zh_assistant):
    result = zh_assistant.search("Which typhoon threatened Xiamen in July 2023?", k=3)
    assert result.filters.automatic and result.filters.since == "2023-07-01"
    assert any("taken from the question" in n for n in result.notes)
    assert "typhoon.txt" in {h.passage.source.rsplit("/", 1)[-1] for h in result.hits}
