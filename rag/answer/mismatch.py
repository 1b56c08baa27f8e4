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

A looser slot is the preposition that places a fact in space or time: "the expo *in Beijing*" against "opened
*in Shanghai*", "graduated *in 2022*" against "will graduate *in July*". The words around differ, so the
shared-context test misses it; the same preposition before another fact of the same kind (a time: a number
or a month; else a name) is the sign (`SubstitutionIndex.replaced_placements`). An answer sentence often
places other facts too, so it is a feature of its own, read by the refusal stage only, and a sentence is
compared with each part of a two-part question (it may answer just one part).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rag.lexicon import COMMON_WORDS, MONTH_ABBREVIATIONS, MONTH_NAMES
from rag.zh.pos import name_like
from rag.zh.pos import tag as han_tag
from rag.zh.script import han_text, has_han
from rag.zh.stopwords import is_punct, is_stop
from rag.zh.words import han_split

_TOKEN = re.compile(r"[^\W_][\w'’\-]*|\d[\d,.\-]*", re.UNICODE)
_ORDINAL_WORDS = ("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
                  "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth").split()
_ORDINAL_DIGITS = {w: f"{n}{'st' if n % 10 == 1 and n != 11 else 'nd' if n % 10 == 2 and n != 12 else 'rd' if n % 10 == 3 and n != 13 else 'th'}"
                   for n, w in enumerate(_ORDINAL_WORDS, start=1)}
# Prepositions that place a fact in space or time ("in Beijing", "since 2021", "from Merck"; 在北京, 于2021年).
PLACING = frozenset("in at from to since during by near 在 于 从 自 到 至 赴".split())
# In Chinese a sentence's slot may be filled by any proper noun jieba tags ("华住二季度营收" against "山西汾酒二季度
# 营收", 山西汾酒 nz) or a Latin word. Every noun was tried too: on the Chinese news train questions it flagged
# answering sentences (refused 5 more answerable, right 46 -> 43) for one more unanswerable refused.
_HAN_FILLER_TAGS = ("nr", "ns", "nt", "nz", "eng")
_TIME_WORDS = frozenset(MONTH_NAMES) | frozenset(MONTH_ABBREVIATIONS)
PREFIX = 4  # "Brazil" is in "Brazilian": a word sharing its first letters (at least this many) with another is it

# (words, whether each is a fact, whether each was possessive: "F3's" -> "f3", True)
Tokens = tuple[tuple[str, ...], tuple[bool, ...], tuple[bool, ...]]


def _content(word: str) -> bool:
    # COMMON_WORDS holds the question words too ("did", "how", "many"); a Han word is content unless a stop word
    return word not in COMMON_WORDS and not (has_han(word) and is_stop(word))


def _same(a: str, b: str) -> bool:
    if has_han(a) or has_han(b):  # "二季度" is "第二季度": no word boundaries, one word inside the other
        return a == b or (min(len(a), len(b)) >= 2 and (a in b or b in a))
    return a == b or (min(len(a), len(b)) >= PREFIX and (a.startswith(b) or b.startswith(a)))


@lru_cache(maxsize=8192)  # the same retrieved sentences come back question after question
def tokens(text: str) -> Tokens:
    """Lower-cased words and numbers (possessive 's dropped: "Shanghai's" -> "shanghai"; "third" -> "3rd"),
    whether each is a fact: a number, an ordinal, or a name (capitalised, not the text's first word); and
    whether each was possessive. Text with Han characters: `_han_tokens`."""
    if han_text(text):
        return _han_tokens(text, fillers=False)
    words, facts, poss = [], [], []
    for k, raw in enumerate(_TOKEN.findall(text)):
        t = raw.casefold().replace("’", "'").rstrip(".,-")
        possessive = t.endswith("'s")
        if possessive:
            t = t[:-2]
        if not t:
            continue
        t = _ORDINAL_DIGITS.get(t, t)
        words.append(t)
        poss.append(possessive)
        facts.append(t[0].isdigit() or t.endswith(("teenth", "tieth")) or (k > 0 and raw[0].isupper() and _content(t)))
    return tuple(words), tuple(facts), tuple(poss)


@lru_cache(maxsize=8192)
def _han_tokens(text: str, fillers: bool) -> Tokens:
    """`tokens` of text with Han characters: jieba's words of the Han runs (single characters jieba could not join
    joined back: "华|住" -> 华住), `tokens` of the Latin pieces between. Facts: numbers and what the text names
    (`name_like`); with `fillers`, also every noun (a sentence's side of a slot)."""
    named = name_like(text)
    words: list[str] = []
    facts: list[bool] = []
    for piece, han in han_split(text):
        if not han:
            w, f, _ = tokens(piece)
            words.extend(w)
            facts.extend(f)
            continue
        run: list[str] = []
        for word, flag in (*han_tag(piece), ("", "x")):
            if word and len(word) == 1 and not is_stop(word) and not is_punct(word):
                run.append(word)
                continue
            if run:
                joined = "".join(run)
                words.append(joined)
                facts.append(len(joined) > 1 and (joined in named or fillers))
                run = []
            if word and not is_punct(word):
                words.append(word)
                facts.append(word in named or (fillers and flag.startswith(_HAN_FILLER_TAGS) and not is_stop(word)))
    return tuple(words), tuple(facts), (False,) * len(words)


def _contexts(words: tuple[str, ...], i: int, possessive: bool = False) -> list[tuple[str, tuple[str, ...]]]:
    """The contexts of words[i] that identify its slot: ("L", words before) and ("R", words after);
    one word when it is a content word, else two (one of them a content word). A possessive's right context
    is its own ("R's"): "the *F3's* Cortex-M4F" names the owner, "an *ARM* Cortex-M4F" a make, another slot;
    "*China's* population" against "*Shanghai's* population" is still the same slot."""
    out: list[tuple[str, tuple[str, ...]]] = []
    if i >= 1:
        left = words[i - 1:i] if _content(words[i - 1]) else words[max(i - 2, 0):i]
        if _content(left[0]):  # the word before, or the content word before a function word
            out.append(("L", left))
    if i + 1 < len(words):
        right = words[i + 1:i + 2] if _content(words[i + 1]) else words[i + 1:i + 3]
        if _content(right[-1]):  # the word after, or a function word and the content word after it
            out.append(("R's" if possessive else "R", right))
    return out


def _fact_kind(word: str) -> str:
    """A placed fact is a time (a number, an ordinal, a month) or a name: only the same kind can replace it."""
    return "time" if word[0].isdigit() or word in _TIME_WORDS else "name"


def placed_facts(tok: Tokens) -> list[tuple[str, str]]:
    """(preposition, fact) for each fact right after a PLACING preposition: "in Beijing" -> ("in", "beijing")."""
    words, facts, _ = tok
    return [(words[i - 1], words[i]) for i in range(1, len(words)) if facts[i] and words[i - 1] in PLACING]


@dataclass(frozen=True)
class AskedPlacements:
    """A question's side of `SubstitutionIndex.replaced_placements`, prepared once per question (not once per
    candidate sentence): each part's placed facts, and every word the question names."""

    parts: tuple[tuple[tuple[str, str], ...], ...]
    words: frozenset[str]

    @classmethod
    def of(cls, parts: list[Tokens]) -> AskedPlacements:
        """From the `tokens` of each part of the question (`rag.answer.parts.question_parts`)."""
        return cls(tuple(tuple(placed_facts(part)) for part in parts),
                   frozenset(w for words, _, _ in parts for w in words))


class SubstitutionIndex:
    """One sentence's words; the facts in each context are indexed on first use (most questions name no
    fact the sentence lacks, and then nothing is indexed)."""

    def __init__(self, text: str) -> None:
        self.words, self._facts, self._poss = _han_tokens(text, fillers=True) if han_text(text) else tokens(text)
        self._han_text = text if han_text(text) else ""
        self.vocab = frozenset(self.words)
        self._prefixes = frozenset(w[:PREFIX] for w in self.words if len(w) >= PREFIX)
        self._in_slot: dict[tuple[str, tuple[str, ...]], set[str]] | None = None
        self._placed: list[tuple[str, str]] | None = None

    def _slots(self) -> dict[tuple[str, tuple[str, ...]], set[str]]:
        if self._in_slot is None:
            # built aside and published whole: an index is shared by the API's worker threads (`sentence_index`)
            slots: dict[tuple[str, tuple[str, ...]], set[str]] = {}
            for j, w in enumerate(self.words):
                if self._facts[j]:
                    for ctx in _contexts(self.words, j, self._poss[j]):
                        slots.setdefault(ctx, set()).add(w)
            self._in_slot = slots
        return self._in_slot

    def _placements(self) -> list[tuple[str, str]]:
        if self._placed is None:
            self._placed = placed_facts((self.words, self._facts, self._poss))
        return self._placed

    def _holds(self, word: str) -> bool:
        if self._han_text and has_han(word):  # no word boundaries: held where its characters occur
            return word in self._han_text
        return word in self.vocab or (len(word) >= PREFIX and word[:PREFIX] in self._prefixes
                                      and any(_same(word, w) for w in self.vocab))

    def substituted(self, question: Tokens) -> int:
        """How many of the question's facts (`tokens(question)`) the sentence lacks while holding their
        context around another fact."""
        words, facts, poss = question
        asked = set(words)
        n = 0
        for i, t in enumerate(words):
            if not facts[i] or self._holds(t):
                continue
            slots = self._slots()
            others = set().union(*(slots.get(ctx, set()) for ctx in _contexts(words, i, poss[i])))
            # a fact the question names elsewhere is a reordering ("the Amazon region of Brazil"), not a change
            n += any(not _same(w, t) and w not in asked for w in others)
        return n

    def replaced_placements(self, asked: AskedPlacements) -> int:
        """The fewest, over the question's parts, of the part's placed facts ("in Beijing") that the sentence
        lacks while placing another fact of the same kind with the same preposition ("in Shanghai"); facts the
        question names anywhere do not count as the other fact."""
        counts = []
        for placed in asked.parts:
            n = 0
            for prep, fact in placed:
                if self._holds(fact):
                    continue
                kind = _fact_kind(fact)
                n += any(p == prep and _fact_kind(w) == kind and not _same(w, fact) and w not in asked.words
                         for p, w in self._placements())
            counts.append(n)
        return min(counts, default=0)


@lru_cache(maxsize=8192)
def sentence_index(text: str) -> SubstitutionIndex:
    """The index of one sentence, kept: the same retrieved sentences come back question after question, and
    building an index (its word sets, then its slots on first use) costs more than asking it."""
    return SubstitutionIndex(text)
