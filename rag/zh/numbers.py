"""Chinese numerals, units, percentages and dates folded to one written form, for matching answers in Han text.

Chinese writes one quantity many ways: 500万元 = 5,000,000 元 = 五百万元 = 5000000元; 1.2亿 = 120000000;
173家 = 一百七十三家; 两 = 2; 百分之五 = 5%; full-width digits; 7月27日 = 七月二十七日, and 2023-07-27 =
2023年07月27日 = 二〇二三年七月二十七日. An answer check that compares characters would call each pair
different, as the English check would "four" and "4" if it did not fold number words.

Contract (pure functions, standard library only, so eval.metrics may use them without our dependencies):

- `fold_numbers(text)`: Unicode NFKC, then every number written in Chinese numerals becomes Arabic digits,
  thousands separators are dropped, 万 / 亿 after a number are multiplied out (千 / 百 only in front of
  them: 5千瓦 is five kilowatts), 百分之N = N%, 千分之N = N‰, a numeric date Y-M-D (or / .) becomes
  Y年M月D日, leading zeros of a month or day go (07月 = 7月), and 号 after a day is 日. Everything else is
  left as it was (case, spaces, punctuation). Applied to both sides of a comparison, a run of numerals
  inside a word folds the same way on both sides (统一 -> 统1), which is all matching needs.
- `match_key(text)`: `fold_numbers`, casefolded, without whitespace or punctuation (a decimal point,
  % and ‰ stay; punctuation between two digits stays as one `|`, so 2023-2025 never reads as 20232025).
- `contains(text, needle)`: the needle's key occurs in the text's key without splitting a number or a
  Latin word: "73家" is not in "173家", "3.5" not in "13.5", "ai" not in "said".

Text without Han characters, digits or these symbols comes back unchanged from `fold_numbers`; the
English answer checks call none of this for text without Han characters (rag.zh.script.has_han).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from functools import lru_cache

from rag.zh.script import HAN_RE

# Numeral characters, the everyday forms and the financial ones (壹贰叁 ..., written on cheques and contracts),
# except 陆 and 伍: surnames and words of their own (大陆 "mainland", 陆军), where a 6 would match a gold "6".
_DIGITS: dict[str, int] = {c: v for v, chars in enumerate(
    ["零〇", "一壹", "二两贰", "三叁", "四肆", "五", "六", "七柒", "八捌", "九玖"]) for c in chars}
_SMALL: dict[str, int] = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_BIG: dict[str, int] = {"万": 10_000, "亿": 100_000_000}
_NUMERAL = "".join(_DIGITS) + "".join(_SMALL) + "".join(_BIG)
_DIGIT_CHARS = "".join(_DIGITS)
# A run of numerals, then an optional decimal part (点 = point) and the big units after it (三点五亿). 点 before
# digits and then 十/分/刻 is a clock time (三点五十分 = 3:50), so the decimal part refuses that (possessive ++:
# no backing off to a shorter decimal).
_HAN_NUMBER = re.compile(f"[{_NUMERAL}]+(?:点[{_DIGIT_CHARS}]++(?![十拾分刻])[万亿]*)?")
# 5,000,000 (a separator followed by exactly three digits). No \b: Han characters are word characters.
_THOUSANDS = re.compile(r"(?<=\d)[,\u202f\u00a0](?=\d{3}(?!\d))")
# An Arabic number and the big units after it: 500万, 1.2亿, 3千万, 2万亿 (not 5千瓦: 千 alone is a unit of its own;
# not 1万2千, whose digits would run together).
_ARABIC_UNITS = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*([百千]?[万亿]+)(?!\d)")
_PERCENT = re.compile(r"(百分之|千分之)(\d+(?:\.\d+)?)")
_ISO_DATE = re.compile(r"(?<![\d.])(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d|\.\d)")
_LEADING_ZERO = re.compile(r"(?<![\d.])0+(?=\d[月日号])")
_HAO = re.compile(r"(?<=\d月)(\d{1,2})号")
_KEEP = frozenset("%‰")


def _decimal_text(value: Decimal) -> str:
    """The shortest plain digits of a value: 5000000, 1.5 (never 5E+6 or 1.50)."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def _unit_value(run: str) -> int | None:
    """The value of a numeral run written with units (一百七十三, 三千五百万, 一万亿), or None when the run
    is not one well-formed number (三四十 "thirty or forty", 千万 "by all means"): those stay as written."""
    total = section = number = 0
    prev = ""  # the last token: "d" digit, "z" 零, "s" 十百千, "b" 万亿
    for c in run:
        if c in _DIGITS:
            if prev == "d":
                return None
            number, prev = _DIGITS[c], ("z" if _DIGITS[c] == 0 else "d")
        elif c in _SMALL:
            if prev == "" and _SMALL[c] == 10:
                number = 1  # 十五 = 15
            elif prev != "d":
                return None
            section, number, prev = section + number * _SMALL[c], 0, "s"
        else:  # 万 or 亿
            if prev in ("", "z"):
                return None
            if c == "亿":  # 一万亿: 亿 multiplies everything before it
                total = (total + section + number) * _BIG[c]
            elif section + number:
                total += (section + number) * _BIG[c]
            else:
                return None
            section, number, prev = 0, 0, "b"
    return total + section + number


def _split_run(run: str) -> tuple[str, str]:
    """(the number, what follows it): 一百万千瓦 is 一百万 then 千瓦 (kilowatts), not one number."""
    for i in range(1, len(run)):
        if run[i - 1] in _BIG and run[i] in _SMALL:
            return run[:i], run[i:]
    return run, ""


def _integer(run: str) -> str | None:
    """The digits of a numeral run (no decimal part), or None when it is a word rather than a number."""
    if not any(c in _DIGITS for c in run) and run[0] not in "十拾":
        return None  # only units (百, 千万): a word, not a number
    if any(c in _SMALL or c in _BIG for c in run):
        value = _unit_value(run)
        return None if value is None else str(value)
    if len(run) == 2 and not any(_DIGITS[c] == 0 for c in run):
        return None  # 一两, 三五, 七八: "one or two", an estimate, not the number 12
    return "".join(str(_DIGITS[c]) for c in run)  # 二〇二三: digit by digit


def _han_number(m: re.Match[str]) -> str:
    text = m.group(0)
    before = m.string[m.start() - 1] if m.start() else ""
    after = m.string[m.end()] if m.end() < len(m.string) else ""
    if before.isdigit() or after.isdigit():  # 20零售: an Arabic number beside it would merge into other digits
        return text
    whole, _, decimals = text.partition("点")
    bigs = decimals.lstrip(_DIGIT_CHARS)
    decimals = decimals[: len(decimals) - len(bigs)]
    run, rest = _split_run(whole)
    digits = _integer(run)
    if digits is None or (rest and decimals):
        return text
    if rest:  # 千瓦 after 一百万: a unit word; nothing in it is a number by itself
        return digits + rest
    if not decimals:
        return digits
    number = Decimal(f"{digits}.{''.join(str(_DIGITS[c]) for c in decimals)}")
    for c in bigs:
        number *= _BIG[c]
    return _decimal_text(number)


def _fold_han_numerals(text: str) -> str:
    return _HAN_NUMBER.sub(_han_number, text)


def _arabic_units(m: re.Match[str]) -> str:
    number = Decimal(m.group(1))
    for c in m.group(2):
        number *= _SMALL.get(c) or _BIG[c]
    return _decimal_text(number)


def _iso_date(m: re.Match[str]) -> str:
    year, month, day = m.group(1), int(m.group(2)), int(m.group(3))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return m.group(0)
    return f"{year}年{month}月{day}日"


@lru_cache(maxsize=16_384)
def fold_numbers(text: str) -> str:
    """`text` with its numbers, percentages and dates in one written form (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text)
    text = _THOUSANDS.sub("", text)
    if HAN_RE.search(text) is not None:
        text = _fold_han_numerals(text)
        text = _ARABIC_UNITS.sub(_arabic_units, text)
        text = _PERCENT.sub(lambda m: m.group(2) + ("%" if m.group(1) == "百分之" else "‰"), text)
        text = _HAO.sub(r"\1日", text)
    text = _ISO_DATE.sub(_iso_date, text)
    return _LEADING_ZERO.sub("", text)


def _dropped(c: str) -> bool:
    return c.isspace() or (unicodedata.category(c).startswith("P") and c not in _KEEP)


@lru_cache(maxsize=16_384)
def match_key(text: str) -> str:
    """`fold_numbers`, casefolded, whitespace and punctuation dropped (see the module docstring)."""
    folded = fold_numbers(text).casefold()
    out: list[str] = []
    gap = False  # dropped characters since the last kept one
    for i, c in enumerate(folded):
        if c == "." and out and out[-1].isdigit() and i + 1 < len(folded) and folded[i + 1].isdigit():
            out.append(c)  # a decimal point
            gap = False
        elif _dropped(c):
            gap = True
        else:
            if gap and c.isdigit() and out and out[-1].isdigit():
                out.append("|")  # 2023-2025, 1, 2: two numbers stay two
            out.append(c)
            gap = False
    return "".join(out)


def _kind(c: str) -> str:
    """What a match must not cut through: a number ("d", its decimal point included) or a Latin word ("l")."""
    if c.isdigit() or c == ".":
        return "d"
    if c.isalpha() and HAN_RE.match(c) is None:
        return "l"
    return ""


def contains(text: str, needle: str) -> bool:
    """True when `needle` occurs in `text` after `match_key`, not inside a longer number or Latin word."""
    key, hay = match_key(needle), match_key(text)
    if not key:
        return False
    first, last = _kind(key[0]), _kind(key[-1])
    start = hay.find(key)
    while start >= 0:
        end = start + len(key)
        left_ok = not first or start == 0 or _kind(hay[start - 1]) != first
        right_ok = not last or end == len(hay) or _kind(hay[end]) != last
        if left_ok and right_ok:
            return True
        start = hay.find(key, start + 1)
    return False
