"""The reader's answer check on Han text: no word boundaries, numbers and units folded; English untouched."""

from __future__ import annotations

import pytest

from rag.answer.answer_match import content, fold, states

Q_MONEY = "这个项目投资了多少钱？"


@pytest.mark.parametrize(("answer", "sentence", "question", "stands"), [
    ("500万元", "该项目总投资五百万元，预计年底完工。", Q_MONEY, True),
    ("五百万元", "该项目总投资500万元。", Q_MONEY, True),
    ("5,000,000元", "该项目总投资500万元。", Q_MONEY, True),
    ("173家", "全市共有一百七十三家企业参展。", "有多少家企业参展？", True),
    ("173", "全市共有一百七十三家企业参展。", "有多少家企业参展？", True),  # an answer without Han, a Han sentence
    ("73家", "全市共有一百七十三家企业参展。", "有多少家企业参展？", False),  # 73 is not 173
    ("5%", "同比增长百分之五。", "同比增长了多少？", True),
    ("七月二十七日", "2023年7月27日上午，会议在北京召开。", "会议哪天召开？", True),
    ("北京", "2023年7月27日上午，会议在北京召开。", "会议哪天召开？", True),
    ("“北京”。", "2023年7月27日上午，会议在北京召开。", "会议哪天召开？", True),  # punctuation ignored
    ("上海", "上海新开了三家门店。", "上海新开了几家门店？", False),  # repeats the question
    ("广州", "上海新开了三家门店。", "哪里新开了门店？", False),  # not in the sentence
    ("5 million yuan", "该项目总投资500万元。", "How much was invested?", False),  # no translation here
    ("。", "该项目总投资500万元。", Q_MONEY, False),
])
def test_a_han_answer_stands_on_the_sentence_that_states_it(answer: str, sentence: str, question: str,
                                                            stands: bool) -> None:
    assert states(answer, sentence, question) is stands


def test_han_text_folds_to_jieba_words_with_numbers_folded() -> None:
    assert fold("上海今年投资五百万元") == fold("上海今年投资500万元")
    assert {"上海", "投资", "5000000"} <= set(fold("上海今年投资五百万元"))
    assert content("上海新开了三家门店") & content("上海有几家门店？") >= {"上海", "门店"}


def test_english_folding_is_untouched() -> None:
    assert fold("JD opened four flagship stores, 1,215 in all.") == (
        "jd", "open", "4", "flagship", "store", "1215", "in", "all")
    assert states("four", "one of the 4 flagship stores opened by JD", "How many flagship stores has JD opened?")
    assert not states("95", "It opened in 1995.", "When did it open?")
