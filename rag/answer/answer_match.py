"""Is a reader's short answer stated in a sentence? Both are folded the same way, then compared as word sets.

Folding: Unicode NFKC, case, curly quotes, punctuation; thousands separators ("1,215" = "1215"); number
words up to the hundreds ("four" = "4"); ordinals ("5th" = "5"); month abbreviations ("Sept." =
"september"); "%" = "percent"; then a Snowball stem per word ("opened" = "open"). An answer stands on a
sentence when every one of its content words occurs in the sentence, and at least one of them is not
already in the question (an answer that only repeats the question states nothing).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

from rag.lexicon import MONTH_ABBREVIATIONS

# Words an answer may add or drop without changing what it states ("the Shanghai Museum" = "Shanghai Museum").
FILLER = frozenset("a an the of in on at to and or by for with from as is was are were be been it its their "
                   "this that these those about around some".split())

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
         "seventeen eighteen nineteen").split()
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
NUMBER_VALUES: dict[str, int] = {w: i for i, w in enumerate(_ONES)} | _TENS | {"hundred": 100, "dozen": 12}

_THOUSANDS = re.compile(r"(?<=\d)[,\u202f\u00a0](?=\d{3}\b)")
_ORDINAL = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b", re.IGNORECASE)
_WORD = re.compile(r"\d+(?:\.\d+)?|[^\W\d_]+")


@lru_cache(maxsize=4)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def _word(w: str) -> str:
    if w in NUMBER_VALUES:
        return str(NUMBER_VALUES[w])
    return MONTH_ABBREVIATIONS.get(w, w)


@lru_cache(maxsize=16_384)
def fold(text: str) -> tuple[str, ...]:
    """The text's words, folded (see the module docstring), in order."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("%", " percent ")
    text = _ORDINAL.sub(r"\1", _THOUSANDS.sub("", text))
    words = [_word(w) for w in _WORD.findall(text)]
    return tuple(_stemmer().stemWords(words))


def content(text: str) -> frozenset[str]:
    return frozenset(w for w in fold(text) if w not in FILLER)


def states(answer: str, sentence: str, question: str = "") -> bool:
    """The sentence states the answer: all its content words occur there, and it adds something to the question."""
    words = content(answer)
    if not words or not words <= set(fold(sentence)):
        return False
    return not words <= set(fold(question))
