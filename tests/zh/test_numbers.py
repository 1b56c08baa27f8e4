"""rag.zh.numbers: one written form for Chinese numerals, units, percentages and dates, and Han-aware containment."""

from __future__ import annotations

import pytest

from rag.zh.numbers import contains, fold_numbers, match_key


@pytest.mark.parametrize("forms", [
    ("500万元", "5,000,000 元", "五百万元", "5000000元", "５００万元"),
    ("1.2亿", "120000000", "一点二亿", "1.2 亿", "120,000,000"),
    ("173家", "一百七十三家", "１７３家"),
    ("两个", "2个"),
    ("百分之五", "5%", "5 %", "５％"),
    ("百分之三点五", "3.5%"),
    ("千分之五", "5‰"),
    ("7月27日", "七月二十七日", "07月27日", "7月27号"),
    ("2023年7月27日", "2023-07-27", "2023/07/27", "2023.7.27", "2023年07月27日", "二〇二三年七月二十七日"),
    ("3千万元", "三千万元", "30000000元"),
    ("2023", "二〇二三", "两千零二十三"),
    ("105", "一百零五"),
    ("100000", "十万"),
    ("1000000000000", "一万亿", "1万亿"),
    ("120000000", "一亿二千万"),
])
def test_every_form_of_a_quantity_has_one_key(forms) -> None:
    keys = {match_key(f) for f in forms}
    assert len(keys) == 1, {f: match_key(f) for f in forms}


@pytest.mark.parametrize("text, folded", [
    ("一百万千瓦", "1000000千瓦"),  # 千瓦 = kilowatt: a unit word after the number, not part of it
    ("5千瓦", "5千瓦"),  # 千 alone after digits is left alone
    ("三点五十分", "3点50分"),  # a clock time, not 3.5
    ("三点五亿", "350000000"),
    ("三四十个", "三四十个"),  # "thirty or forty": not one number
    ("一两个月", "一两个月"),  # "one or two months", not 12
    ("千万", "千万"),  # "by all means": units alone are a word
    ("万一", "万一"),
    ("1万2千", "1万2千"),  # would run the digits together
    ("20零售", "20零售"),  # a numeral beside Arabic digits stays, for the same reason
    ("陆雁彬", "陆雁彬"),  # 陆 is a surname here, not the financial 6
    ("第一千零四十六条", "第1046条"),
    ("2023-2025年", "2023-2025年"),  # not a date
    ("2023-13-40", "2023-13-40"),  # no such month or day
])
def test_what_stays_as_written(text: str, folded: str) -> None:
    assert fold_numbers(text) == folded


def test_text_without_han_keeps_its_words() -> None:
    assert fold_numbers("JD opened 1,215 stores on 2024-05-06.") == "JD opened 1215 stores on 2024年5月6日."
    assert fold_numbers("Nanjing West Road") == "Nanjing West Road"


def test_match_key_drops_spaces_and_punctuation_but_keeps_numbers_apart() -> None:
    assert match_key("“一带一路”倡议，") == "1带1路倡议"
    assert match_key("增长 3.5%。") == "增长3.5%"
    assert match_key("2023-2025年") == "2023|2025年"
    assert match_key("GDP 增长") == "gdp增长"


@pytest.mark.parametrize("text, needle, expected", [
    ("今年投资五百万元人民币。", "500万元", True),
    ("共有一百七十三家企业参加。", "173家", True),
    ("共有一百七十三家企业参加。", "七十三家", False),  # 73 is not 173
    ("营收13.5亿元", "3.5亿元", False),
    ("增长3.5%", "5%", False),
    ("增长百分之五。", "5%", True),
    ("2023年7月27日上午", "7月27日", True),
    ("7月27日上午", "2023-07-27", False),  # the sentence does not say the year
    ("人工智能（AI）产业", "ai", True),
    ("He said it", "ai", False),  # a Latin word is not cut
    ("“一带一路”倡议", "一带一路", True),
    ("任何文本", "", False),
    ("任何文本", "。", False),
])
def test_contains(text: str, needle: str, expected: bool) -> None:
    assert contains(text, needle) is expected
