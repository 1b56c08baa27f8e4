"""Changed facts: a question word the sentence replaces with another in the same context.

An on-topic question the documents do not answer often changes one fact of a sentence that is there:
"the experience center in *Beijing*" against "the experience center in *Shanghai*", "the *15th* Five
Year Plan" against "the *14th* Five Year Plan", "led the *Xizang* delegation" against "led the *Shanghai*
delegation". Coverage and cosine barely see it (every other word matches), so the evidence model gets it
as a feature: how many of the question's words the sentence substitutes.

Only facts count: a name (a capitalised word not opening the question), a number, an ordinal. Such a word
counts as substituted in a sentence when the sentence does not hold it, but holds its context with another
fact in its place: the same word(s) right before it (two words, or one content word) or right after it
(likewise). Ordinary words are left out on purpose: the answer sits in the slot of the question's verb
("What position does Wang Junzheng *hold*?" on "Wang Junzheng, *Secretary* of ..."), and paraphrases
("home economics" vs "domestic economics") would trip it. It is a feature, not a rule: the model weighs it.
"""

from __future__ import annotations

import re

from rag.cite.terms import COMMON_WORDS

_TOKEN = re.compile(r"[^\W_][\w'’\-]*|\d[\d,.\-]*", re.UNICODE)
_FILLER = frozenset("did does do many much according which what who whom whose when where why how".split())


_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth"
                      r"|eleventh|twelfth|\w+teenth|\w+tieth", re.I)


_ORDINAL_WORDS = ("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
                  "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth").split()
_ORDINAL_DIGITS = {w: f"{n}{'st' if n % 10 == 1 and n != 11 else 'nd' if n % 10 == 2 and n != 12 else 'rd' if n % 10 == 3 and n != 13 else 'th'}"
                   for n, w in enumerate(_ORDINAL_WORDS, start=1)}
PREFIX = 4  # "Brazil" is in "Brazilian": a word sharing its first letters (at least this many) with another is it


def _same(a: str, b: str) -> bool:
    return a == b or (min(len(a), len(b)) >= PREFIX and (a.startswith(b) or b.startswith(a)))


def tokens(text: str) -> tuple[list[str], list[bool]]:
    """Lower-cased words and numbers (possessive 's dropped: "Shanghai's" -> "shanghai"), and whether each
    is a fact: a number, an ordinal, or a name (capitalised, not the text's first word)."""
    words, facts = [], []
    for k, raw in enumerate(_TOKEN.findall(text)):
        t = raw.casefold().replace("’", "'").rstrip(".,-")
        if t.endswith("'s"):
            t = t[:-2]
        t = _ORDINAL_DIGITS.get(t, t)  # "third" == "3rd"
        if not t:
            continue
        words.append(t)
        facts.append(t[0].isdigit() or bool(_ORDINAL.fullmatch(t)) or (k > 0 and raw[0].isupper() and _content(t)))
    return words, facts


def _content(word: str) -> bool:
    return word not in COMMON_WORDS and word not in _FILLER


def _contexts(words: list[str], i: int) -> list[tuple[str, tuple[str, ...]]]:
    """The contexts of words[i] that identify its slot: ("L", words before) and ("R", words after);
    one word when it is a content word, else two."""
    out: list[tuple[str, tuple[str, ...]]] = []
    if i >= 1:
        left = (words[i - 1],) if _content(words[i - 1]) else tuple(words[max(i - 2, 0):i])
        if any(_content(w) for w in left) and len(left) == (1 if _content(words[i - 1]) else 2):
            out.append(("L", left))
    if i + 1 < len(words):
        right = (words[i + 1],) if _content(words[i + 1]) else tuple(words[i + 1:i + 3])
        if any(_content(w) for w in right) and len(right) == (1 if _content(words[i + 1]) else 2):
            out.append(("R", right))
    return out


class SubstitutionIndex:
    """One sentence's words, indexed by the contexts they sit in (built once, asked per question word)."""

    def __init__(self, text: str) -> None:
        self.words, facts = tokens(text)
        self.vocab = set(self.words)
        self._in_slot: dict[tuple[str, tuple[str, ...]], set[str]] = {}  # context -> the facts found in it
        for j, w in enumerate(self.words):
            if facts[j]:
                for ctx in _contexts(self.words, j):
                    self._in_slot.setdefault(ctx, set()).add(w)

    def substituted(self, question: tuple[list[str], list[bool]]) -> int:
        """How many of the question's facts (`tokens(question)`) the sentence lacks while holding their
        context around another fact."""
        words, facts = question
        asked = set(words)
        n = 0
        for i, t in enumerate(words):
            if not facts[i] or t in self.vocab or any(_same(t, w) for w in self.vocab):
                continue
            others = set().union(*(self._in_slot.get(ctx, set()) for ctx in _contexts(words, i)))
            # a fact the question names elsewhere is a reordering ("the Amazon region of Brazil"), not a change
            n += any(not _same(w, t) and w not in asked for w in others)
        return n

