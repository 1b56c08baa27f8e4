"""Chinese words in pinyin, for English text that writes Chinese names so: "Gansu" is 甘肃, "Zhao Youliang" 赵有亮.

An English question over Chinese news names its people and places in pinyin ("how many bases does gansu plan",
"when did Zhao Youliang die"); no encoder maps those to the characters (Gansu ~ 甘肃 0.61 with the multilingual USE,
below the cosines of its wrong words). The toneless pinyin of a word, letters only, matches them exactly.
"""

from __future__ import annotations

import re
from functools import lru_cache


from rag.zh.script import HAN_RUN_RE

MIN_LETTERS = 4  # "li", "wang", "xian" alone match too many words; a name's whole pinyin is longer than this
MAX_SPAN_WORDS = 4  # "Zhao Youliang", "Jiangyong County": a name is written in at most this many Latin words
_LATIN = re.compile(r"[A-Za-z]+")


@lru_cache(maxsize=65536)
def romanized(word: str) -> str:
    """The toneless pinyin of a Han word, lower case, syllables joined ("赵有亮" -> "zhaoyouliang"); "" when the
    word is not all Han characters."""
    if HAN_RUN_RE.fullmatch(word) is None:
        return ""
    from pypinyin import lazy_pinyin  # noqa: PLC0415 - 0.2 s to import: only English questions over Han text need it

    return "".join(lazy_pinyin(word)).casefold()


def pinyin_names(text: str, han_words: set[str]) -> dict[str, set[str]]:
    """For each run of 1-MAX_SPAN_WORDS Latin words of `text` ("Zhao Youliang"), the words of `han_words` whose
    pinyin it spells (case and spaces aside), at least MIN_LETTERS letters long."""
    latin = _LATIN.findall(text)
    spans: dict[str, str] = {}
    for i in range(len(latin)):
        for j in range(i + 1, min(i + MAX_SPAN_WORDS, len(latin)) + 1):
            joined = "".join(latin[i:j]).casefold()
            if len(joined) >= MIN_LETTERS:
                spans.setdefault(joined, " ".join(latin[i:j]))
    out: dict[str, set[str]] = {}
    for w in han_words:
        phrase = spans.get(romanized(w))
        if phrase is not None:
            out.setdefault(phrase, set()).add(w)
    return out
