"""Is a reader's short answer stated in a sentence? Both are folded the same way, then compared as word sets.

Folding: Unicode NFKC, case, curly quotes, punctuation; thousands separators ("1,215" = "1215"); number
words up to the hundreds ("four" = "4"); ordinals ("5th" = "5"); month abbreviations ("Sept." =
"september"); "%" = "percent"; then a Snowball stem per word ("opened" = "open"). An answer stands on a
sentence when every one of its content words occurs in the sentence, and at least one of them is not
already in the question (an answer that only repeats the question states nothing).

Han text has no spaces between words, so word sets say nothing there: when the answer or the sentence holds
a Han character, the answer stands when its folded form (rag.zh.numbers: 五百万元 = 500万元 = 5,000,000 元,
百分之五 = 5%, 七月二十七日 = 7月27日; case, spaces and punctuation ignored) occurs in the sentence's without
cutting a number or a Latin word ("73家" is not in "173家"), and not already in the question's. `fold` cuts
Han runs into jieba's words (after folding their numbers), so word overlaps with a question still count.
Text without Han characters takes exactly the English path above.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import Stemmer

from rag.lexicon import ANSWER_FILLER, MONTH_ABBREVIATIONS, NUMBER_VALUES
from rag.zh.numbers import contains as han_contains
from rag.zh.numbers import fold_numbers
from rag.zh.script import han_text
from rag.zh.segment import cut

# Words a reader puts before a figure that the sentence may word otherwise ("超过1700亿元" for "超1700亿元"): the
# figure must still be there. Chinese counterpart of ANSWER_FILLER.
HAN_QUALIFIER = re.compile(r"^(?:超过|超|大约|约|将近|近|逾|共计|共|总共|达到|达|高达|多达|仅)(?=[\d一二三四五六七八九十两百千万亿])")

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


def _han_words(text: str) -> list[str]:
    """jieba's words of a Han text, numbers folded first (五百万 -> 5000000), spaces and punctuation left out."""
    return [w for w in cut(fold_numbers(text).casefold()) if any(c.isalnum() for c in w)]


@lru_cache(maxsize=16_384)
def fold(text: str) -> tuple[str, ...]:
    """The text's words, folded (see the module docstring), in order."""
    if han_text(text):
        return tuple(_han_words(text))
    text = unicodedata.normalize("NFKC", text).casefold().replace("%", " percent ")
    text = _ORDINAL.sub(r"\1", _THOUSANDS.sub("", text))
    words = [_word(w) for w in _WORD.findall(text)]
    return tuple(_stemmer().stemWords(words))


def content(text: str) -> frozenset[str]:
    return frozenset(w for w in fold(text) if w not in ANSWER_FILLER)


def states(answer: str, sentence: str, question: str = "") -> bool:
    """The sentence states the answer: all its content words occur there, and it adds something to the question."""
    if han_text(answer) or han_text(sentence):
        bare = HAN_QUALIFIER.sub("", answer, count=1) or answer
        return any(han_contains(sentence, a) and not han_contains(question, a) for a in dict.fromkeys((answer, bare)))
    words = content(answer)
    if not words or not words <= set(fold(sentence)):
        return False
    return not words <= set(fold(question))
