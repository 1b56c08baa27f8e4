"""Citation checks on Chinese text: key terms (numbers glued to Han words, numerals, months, tagged names) and spans."""

from __future__ import annotations

import numpy as np
import pytest

from rag.cite.terms import extract_key_terms, extract_months, extract_numbers, missing_terms, unbound_numbers
from rag.cite.verify import CitationVerifier, same_text

SPAN = ("7月27日晚，中国驻德国大使馆举行庆祝中国人民解放军建军96周年招待会。中国商务部部长王文涛出席，"
        "该项目总投资五百万元，共有173家企业参与，同比增长百分之十五。")


class CountingEncoder:
    """Bag-of-characters vectors, counting calls: a verbatim quote must not be embedded at all."""

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts, show_progress=False):  # noqa: ANN001, ANN201
        self.calls += 1
        vecs = np.array([[t.count(c) for c in "中国商务部长王文涛企业家投资"] for t in texts], dtype=np.float32)
        return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-9)


@pytest.mark.parametrize(("text", "numbers"), [
    ("在2023年，共有173家企业", {"2023", "173"}),  # digits glued to Han words
    ("总投资五百万元", {"5000000"}),  # numerals folded (rag.zh.numbers)
    ("投资500万元", {"5000000"}),  # 万 multiplied out: the same number as 五百万元
    ("同比增长百分之十五，即15%", {"15%"}),
    ("统一行动，一起努力，十分重要", set()),  # numeral characters inside words are no numbers
    ("63.29亿元", {"6329000000"}),
    ("Apple sold 1,215 phones", {"1215"}),  # text without Han: the English rule
])
def test_numbers_in_han_text(text, numbers):
    assert extract_numbers(text) == numbers


def test_months_and_names_in_han_text():
    assert extract_months("7月27日晚，七月底") == {"july"}
    terms = extract_key_terms("中国商务部部长王文涛、南非贸工部部长易卜拉欣·帕特尔出席。")
    assert {"王文涛", "易卜拉欣·帕特尔", "商务部", "南非"} <= terms
    assert "counterpoint" in extract_key_terms("Counterpoint的PC数据显示")  # a Latin name beside Han words


@pytest.mark.parametrize(("sentence", "missing"), [
    ("中国商务部部长王文涛出席。", []),  # a clause of the span
    ("该项目总投资500万元，共有173家企业参与。", []),  # 500万元 is 五百万元
    ("7月27日晚举行招待会。", []),  # 7月 backs july
    ("On July 27 the embassy held a reception.", []),  # an English sentence citing the Chinese span
    ("共有174家企业参与。", ["174"]),  # a changed number
    ("中国商务部部长李强出席。", ["李强"]),  # a changed name
    ("8月27日晚举行招待会。", ["8", "august"]),  # a changed month
])
def test_missing_terms_against_a_chinese_span(sentence, missing):
    assert missing_terms(sentence, SPAN) == missing


def test_unbound_numbers_read_han_words_and_skip_dates():
    assert unbound_numbers("共有173家企业参与。", SPAN) == []
    assert unbound_numbers("7月27日举行。", SPAN) == []  # "7月": a date, not seven of something
    assert unbound_numbers("共有173名记者到场采访报道。", "共有173家企业参与。") == ["173 名"]


def test_a_verbatim_chinese_quote_verifies_without_embedding():
    enc = CountingEncoder()
    verifier = CitationVerifier(enc, min_similarity=0.45)
    quote = "中国商务部部长王文涛出席"
    assert same_text(quote + "。", quote + "，")  # the composer's "。" and the clause's "，" are quoting marks
    v = verifier.check(quote + "。", quote + "，")
    assert v.ok and v.similarity == 1.0 and enc.calls == 0
    bad = verifier.check("中国商务部部长李强出席。", quote + "，")
    assert not bad.ok and bad.missing_terms == ["李强"]
