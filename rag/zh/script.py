"""Which script a text is written in: enough to pick Han-aware code paths and a collection's encoder."""

from __future__ import annotations

import re

# CJK Unified Ideographs, Extension A, and the compatibility block: the characters jieba segments.
HAN_CHAR = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HAN_RE = re.compile(f"[{HAN_CHAR}]")
HAN_RUN_RE = re.compile(f"[{HAN_CHAR}]+")
_LETTER_RE = re.compile(r"[^\W\d_]")  # letters of any script (Han characters are letters to Python)


def has_han(text: str) -> bool:
    """True when `text` holds at least one Han character."""
    return HAN_RE.search(text) is not None


def han_share(text: str) -> float:
    """Han characters over all letters (0.0 for a text without letters)."""
    letters = len(_LETTER_RE.findall(text))
    if letters == 0:
        return 0.0
    return len(HAN_RE.findall(text)) / letters


# A text is read as Chinese when Han characters are at least this share of its letters: an English sentence
# quoting a name in characters ("the Shoushi Li (授時暦), disseminated in 1281", 3 of 110 letters) keeps the
# English reading; a Chinese one naming "Philip Colbert" or "PC数据" stays Chinese.
HAN_TEXT_SHARE = 0.15


def han_text(text: str) -> bool:
    """True when `text` is to be read as Chinese: it holds Han characters, at least HAN_TEXT_SHARE of its letters."""
    return has_han(text) and han_share(text) >= HAN_TEXT_SHARE
