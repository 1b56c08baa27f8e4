"""The reader's short answer to a Chinese question for a figure stands only on a sentence that states it in the
unit asked (rag.answer.reader.standing_sentence); the reader may leave the unit out, the sentence may not."""

from __future__ import annotations

import pytest

from rag.answer.citations import SentenceSpan
from rag.answer.reader import build_reader_messages, standing_sentence


def _shown(text: str) -> list[tuple[int, SentenceSpan, float]]:
    return [(0, SentenceSpan(0, "d", 0, len(text), text), 0.5)]


@pytest.mark.parametrize(("question", "short", "sentence", "stands"), [
    ("华住二季度营收多少亿", "374", "第二季度华住集团新开业酒店达374家。", False),  # hotels, not 亿 of revenue
    ("华住二季度营收多少亿", "32.8", "华住二季度营收32.8亿元。", True),
    ("广州那个七十多岁的温伯差点被骗走多少钱", "240万", "温伯差点被骗走240多万元。", True),  # unit left out
    ("在G768上厕所里抽烟的人被拘了几天", "5日", "张某被依法处以行政拘留5日的处罚。", True),  # 日 for 天
    ("2022年我国机器人产业营业收入是多少？", "超过1700亿元", "2022年，我国机器人产业营业收入超1700亿元。", True),
    ("2022年我国机器人产业营业收入是多少？", "2022", "2022年，我国机器人产业营业收入超1700亿元。", False),  # asked
    ("华住现在在全球开了多少家酒店", "8,750家", "截至6月30日，华住全球在营酒店8,750家。", True),
])
def test_a_figure_stands_on_a_sentence_that_states_it_in_the_unit_asked(
        question: str, short: str, sentence: str, stands: bool) -> None:
    assert (standing_sentence(short, question, _shown(sentence), "number", 0.0) is not None) is stands


def test_chinese_sentences_get_the_chinese_instruction_english_ones_the_english() -> None:
    zh = build_reader_messages("How long is the trip?", ["通车后防城港到东兴只需20分钟。"])[1]["content"]
    en = build_reader_messages("How long is the trip?", ["The trip takes 20 minutes."])[1]["content"]
    assert "不要翻译" in zh and "不要翻译" not in en


def test_a_transliterated_place_name_answers_a_where_question() -> None:
    # jieba tags 约翰内斯堡 (Johannesburg) as a person's name; a "which city" answer naming it still stands
    q = "中国和南非的企业贸易对接会在哪个城市举行？"
    found = standing_sentence("南非约翰内斯堡", q, _shown("贸易对接会10日在南非约翰内斯堡举行。"), "place", 0.0)
    assert found is not None
    assert standing_sentence("南非", q, _shown("贸易对接会10日在南非约翰内斯堡举行。"), "place", 0.0) is None
