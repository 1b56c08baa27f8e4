"""Is a reader's short answer stated in a sentence? Both are folded the same way, then compared as word sets.

Folding: Unicode NFKC, case, curly quotes, punctuation; thousands separators ("1,215" = "1215"); number
words up to the hundreds ("four" = "4"); ordinals ("5th" = "5"); month abbreviations ("Sept." =
"september"); "%" = "percent"; then a Snowball stem per word ("opened" = "open"). An answer stands on a
sentence when every one of its content words occurs in the sentence, and at least one of them is not
already in the question (an answer that only repeats the question states nothing).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import Stemmer

from rag.lexicon import ANSWER_FILLER, MONTH_ABBREVIATIONS, NUMBER_VALUES

_THOUSANDS = re.compile(r"(?<=\d)[,\u202f\u00a0](?=\d{3}\b)")
_ORDINAL = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b", re.IGNORECASE)
_WORD = re.compile(r"\d+(?:\.\d+)?|[^\W\d_]+")


_LOCAL = threading.local()


def _stemmer() -> Stemmer.Stemmer:
    """One stemmer per thread: a PyStemmer object must not be shared by the server's threads."""
    stemmer = getattr(_LOCAL, "stemmer", None)
    if stemmer is None:
        stemmer = _LOCAL.stemmer = Stemmer.Stemmer("english")
    return stemmer


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
    return frozenset(w for w in fold(text) if w not in ANSWER_FILLER)


def states(answer: str, sentence: str, question: str = "") -> bool:
    """The sentence states the answer: all its content words occur there, and it adds something to the question."""
    words = content(answer)
    if not words or not words <= set(fold(sentence)):
        return False
    return not words <= set(fold(question))
