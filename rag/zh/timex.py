"""Dates and times a Chinese sentence states ("2023年7月27日", "22日晚", "16:40", "下午3时"), in the English forms.

The answer scorer asks "does this sentence hold a date the question does not state?" and "which numbers of
this sentence are quantities, not parts of a date?" (`rag.answer.answer_type`); the citation check compares a
sentence's months with its span's (`rag.cite.terms`). The forms are those the English side already uses, so
an English question's "July" meets a Chinese sentence's "7月": a year "2023", a month "july", a day of a month
"july 27" (a day without its month "d27"), a clock time "t16:40".
"""

from __future__ import annotations

import re

# English month names, spelled as rag.lexicon.MONTH_NAMES spells them ([n - 1] is month n): rag.zh and rag.lexicon
# are independent siblings of the bottom layer (import-linter), so the twelve names are repeated here.
MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
               "november", "december")

# Chinese digits as month numbers ("七月", "十二月") and in a written-out year ("二〇二三年").
_ZH_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ZH_MONTH = "|".join(sorted(("一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"), key=len, reverse=True))

_ISO = r"(?P<iy>\d{4})\s*[-/.]\s*(?P<im>\d{1,2})\s*[-/.]\s*(?P<id>\d{1,2})(?!\d)"
_YMD = (r"(?:(?P<y>\d{4}|[〇零一二三四五六七八九]{4})\s*年\s*)?"
        rf"(?:(?P<m>\d{{1,2}}|{_ZH_MONTH})\s*月(?!份?\s*[以之]?内)\s*)?"
        r"(?:(?P<d>\d{1,2})\s*[日号](?![线楼元]))?")
_CLOCK = r"(?P<h>\d{1,2})\s*(?:[:：]\s*(?P<mi>\d{2})(?!\d)|[时点](?:\s*(?P<mi2>\d{1,2})\s*分)?)"
# A year written alone ("2023全国田径锦标赛", "在2023"): 1900-2099 not followed by a digit, a decimal part or a
# measure word ("1500米", "2000元", "2023人" are quantities).
_BARE_YEAR = r"(?P<by>19\d\d|20\d\d)(?![\d.,%]|\s*[万亿千百十元米人家个名位项件次吨台辆座所户只条种倍岁天秒度])"
_DATE_RE = re.compile(rf"(?<![\d.]){_ISO}|(?<![\d.]){_CLOCK}|(?<![\d.]){_YMD}|(?<![\d.,]){_BARE_YEAR}")


def _number(raw: str) -> int:
    if raw.isdigit():
        return int(raw)
    if len(raw) == 4:  # a written-out year: one digit a character
        return int("".join(str(_ZH_DIGITS[c]) for c in raw))
    # a month in Chinese numerals: 一 .. 十二
    if raw.startswith("十"):
        return 10 + (_ZH_DIGITS[raw[1]] if len(raw) > 1 else 0)
    return _ZH_DIGITS[raw]


def _terms(m: re.Match[str]) -> set[str]:
    g = m.groupdict()
    out: set[str] = set()
    if g["iy"]:
        y, mo, d = int(g["iy"]), int(g["im"]), int(g["id"])
        if 1 <= mo <= 12 and 1 <= d <= 31:
            out |= {str(y), MONTH_NAMES[mo - 1], f"{MONTH_NAMES[mo - 1]} {d}"}
        return out
    if g["h"]:
        h, mi = int(g["h"]), g["mi"] or g["mi2"] or "00"
        if h <= 24 and int(mi) < 60:
            out.add(f"t{h}:{int(mi):02d}")
        return out
    if g["by"]:
        return {g["by"]}
    month = None
    if g["y"]:
        out.add(str(_number(g["y"])))
    if g["m"]:
        n = _number(g["m"])
        if 1 <= n <= 12:
            month = MONTH_NAMES[n - 1]
            out.add(month)
    if g["d"] and 1 <= int(g["d"]) <= 31:
        out.add(f"{month} {int(g['d'])}" if month else f"d{int(g['d'])}")
    return out


def han_dates(text: str) -> set[str]:
    """The years, months, days of a month and clock times `text` states, as "2023", "july", "july 27", "d27",
    "t16:40"."""
    out: set[str] = set()
    for m in _DATE_RE.finditer(text):
        if m.group(0).strip():
            out |= _terms(m)
    return out


def han_months(text: str) -> set[str]:
    """The months `text` states ("7月", "七月", "2023-07-28"), as English month names."""
    return {t for t in han_dates(text) if t in MONTH_NAMES}


def without_han_dates(text: str) -> str:
    """`text` with its dates and clock times blanked out (same length): its other numbers are quantities."""
    return _DATE_RE.sub(lambda m: " " * len(m.group(0)), text)
