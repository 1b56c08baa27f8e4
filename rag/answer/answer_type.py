"""What kind of answer a question asks for, and whether a sentence holds one.

Kinds: person, date, number, place, org (None when the wording does not say). The detector reads the
question's wording at its own (first) wh-word; the matcher looks for an instance of that kind in the sentence
that the question does not already state (a sentence repeating the question's own date answers nothing); for
a count or an amount ("how many", "how much", "what is the fee") only a quantity counts, never a year, a
day of a month or a clock time; "how long" is also held by a duration without a digit ("after a year").
Both are features of the evidence model (`rag.answer.features`), not decisions on their own.

Chinese: a question with Han characters is read by its Chinese question words first (`rag.zh.question`: 谁 ->
person, 多少 -> number with the unit asked, 何时 -> date ...), and a sentence with Han characters is matched by
jieba's tags (`rag.zh.pos`: persons, places, organisations), its Chinese dates (`rag.zh.timex`) and its numbers
glued to Han words; an English question over a Chinese sentence takes the English kind and the Chinese matching.
Text without Han characters takes exactly the English code.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rag.cite.terms import extract_months, extract_numbers
from rag.lexicon import (
    COMMON_WORDS,
    MONTH_PATTERN,
    NOT_PERSON_WORDS,
    NUMBER_WORDS,
    ORG_WORDS,
    PLACE_WORDS,
    SMALL_NUMBER_WORDS,
)
from rag.zh.pos import name_like as han_name_like
from rag.zh.pos import names as han_names
from rag.zh.pos import tag as han_tag
from rag.zh.question import answer_kind_zh, asked_units, asks_count_zh, states_unit
from rag.zh.script import han_text
from rag.zh.timex import han_dates, without_han_dates

KINDS = ("person", "date", "number", "place", "org")

# "What is the tuition fee", "what starting salary": an amount of money (a number question)
_AMOUNT = r"\bwhat(?: is| was| are| were)?(?: the)?(?: \w+)? (?:fees?|prices?|costs?|salar(?:y|ies)|wages?|budget|rent)\b"

# A word between "which/what" and the noun, but not an auxiliary: "what did the ministry unveil" asks
# for a thing, "which two ministries" for an organisation.
_GAP = r"(?:(?!(?:did|does|do|is|was|were|are|has|have|had|will|would|can|could|should)\b)\w+(?:['’]s)? )"
# A kind noun followed by a possessive is not what is asked: "which *region's* integrated development", "which
# German *company's* executive board chairman" (a person).
_HEAD = r"\b(?!['’]s\b)"

# "official" before a noun is an adjective: "which WeChat *official account*" asks for an account, not a person.
_NOT_ADJECTIVE = (r"(?!\s+(?:accounts?|websites?|sites?|pages?|channels?|media|platforms?|apps?|documents?|names?"
                  r"|languages?|data|figures|statistics|titles?|positions?|statements?|reports?|records?|visits?"
                  r"|events?|ceremon(?:y|ies)|residences?|seals?|versions?|texts?|rules?|rates?)\b)")

_TYPE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("number", re.compile(
        r"\bhow (many|much|long|old|large|big|far|often)\b|\bwhat (percentage|percent|number|share|amount|proportion)\b"
        r"|\bby how much\b|" + _AMOUNT, re.I)),
    ("date", re.compile(
        r"\bwhen\b|\b(what|which|in what|on what) (year|years|date|dates|day|days|month|period|time|decade|century)\b"
        r"|\bon which dates?\b", re.I)),
    ("person", re.compile(
        r"\bwho(m|se)?\b|\b(which|what) " + _GAP + r"{0,4}?(minister|mayor|official" + _NOT_ADJECTIVE + r"|person|people|leader|secretary|chairman"
        r"|chairwoman|president|director|head|governor|representative|king|queen|emperor|author|scientist|artist"
        r"|player|founder|ceo)" + _HEAD, re.I)),
    ("place", re.compile(
        r"\bwhere\b|\b(what|which|in what|in which) (city|cities|country|countries|district|place|location|province"
        r"|street|road|region|state|town|village|continent|area|address)" + _HEAD, re.I)),
    ("org", re.compile(
        r"\b(which|what) " + _GAP + r"{0,2}?(company|companies|organi[sz]ations?|firm|university|group|brand|agency|ministry"
        r"|ministries|department|body|bodies|office|bureau|party|team|institution|school|newspapers?|committee)" + _HEAD,
        re.I)),
]

# Capitalised: any upper-case letter ("Ögedei Khan", "José María Figueres"), not only A-Z; an initial
# ("J. F. D. Shrewsbury") continues a run; "U.S." is no initial.
_UPPER = "".join(re.escape(chr(c)) for c in range(0x41, 0x530) if chr(c).isupper())
_CAP_WORD = rf"[{_UPPER}](?:\.(?=\s)|[\w'’\-]*)"
# Lower-case particles inside a name ("Osama bin Laden", "Charles de Gaulle") continue a run too.
_PARTICLE = r"(?:of|and|bin|ibn|van|von|de|da|di|del|della|der|den|du|la|le|al|el|y|dos|das)\s+"
_CAP_RUN = re.compile(rf"(?<![\w.]){_CAP_WORD}(?:\s+(?:{_PARTICLE})?{_CAP_WORD})*")
# A name followed by an organisation's kind noun: "the Arc'teryx brand", "the Merck company".
_NAMED_ORG = re.compile(
    rf"(?<![\w.])({_CAP_WORD}(?:\s+{_CAP_WORD})*)\s+(?:brands?|compan(?:y|ies)|firms?|groups?|enterprises?"
    r"|corporations?|newspapers?|agenc(?:y|ies))\b")
_INITIAL = re.compile(r"^\w\.$")
_WORD = re.compile(r"[^\W_][\w'’\-]*")
# A date a sentence states, for "when / what year / what time" questions: a year of 1000-2099 (not part of a
# larger number: "1,215" is a count), a clock time. Years were 1500-2099 only, which missed "disseminated in
# 1281" (SQuAD 2.0 dev, `rag eval --dataset squad2 --mode extractive`: 94 -> 96 of 124 answerable right, 1
# more unanswerable answered). Decades ("the 1740s") and centuries ("the 15th-17th centuries") were measured
# too and NOT kept: they gained nothing and answered 2 more unanswerable SQuAD questions.
_YEAR = re.compile(r"(?<![\d,.])(1\d{3}|20\d\d)(?!\d|,\d|\.\d|\w)")
_CLOCK = re.compile(r"\b\d{1,2}[:.]\d{2}\s*[ap]\.?m\b|\b\d{1,2}:\d{2}\b|\b\d{1,2}\s*[ap]\.?m\.", re.I)
# "How many / how much / what share": the answer is a count or an amount, never a year, a day of a month or
# a clock time ("opened on 3 March 2024" holds no count of books; "holds 48,000 books" does).
_COUNT_QUESTION = re.compile(
    r"\bhow (?:many|much)\b|\bwhat (?:percentage|percent|number|share|amount|proportion)\b|\bby how much\b|"
    + _AMOUNT, re.I)
# A day range ("from July 17 to 18", "14-18 January") is dates throughout: its second day is no count.
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_DAY_RANGE = rf"(?:{_DAY}\s*(?:-|–|to)\s*)?"
_DATE_OR_TIME = re.compile(
    rf"\b{_DAY_RANGE}{_DAY}\s+(?:of\s+)?{MONTH_PATTERN}(?!\w)"
    rf"|\b{MONTH_PATTERN}\s+{_DAY}(?:\s*(?:-|–|to)\s*{_DAY})?\b"
    r"|\b\d{1,2}:\d{2}(?:\s*[ap]\.?m\b\.?)?(?!\d)|\b\d{1,2}\.\d{2}\s*[ap]\.?m\b\.?"  # 9:00, 21:00, 8.30 am
    r"|(?<![\d,.])(?:1[5-9]\d\d|20\d\d)(?!\d|,\d|\.\d)|\b\d{4}-\d{2}-\d{2}\b"  # a year (not 2,000 or 2022.5)
    r"|\b\d{1,2}(?:st|nd|rd|th)\b")
_LETTERS = re.compile(r"[^\W\d_]+")
# "How long ...?" asks for a duration, which need not hold a digit: "after a year of practice", "for many years".
_HOW_LONG = re.compile(r"\bhow long\b", re.I)
_DURATION = re.compile(
    r"\b(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|several|many|few|\d[\d,.]*)\s+(?:\w+\s+)?"
    r"(?:years?|months?|weeks?|days?|hours?|minutes?|decades?|centur(?:y|ies))\b", re.I)


def asks_count(question: str) -> bool:
    """Does the question ask for a count or an amount ("how many", "how much", "what share"; 多少, 几个)?"""
    if han_text(question) and asks_count_zh(question):
        return True
    return bool(_COUNT_QUESTION.search(question))


def without_dates(text: str) -> str:
    """The text with its years, days of a month and clock times blanked out (same length)."""
    return _DATE_OR_TIME.sub(lambda m: " " * len(m.group(0)), text)


@lru_cache(maxsize=1024)
def number_words(text: str) -> frozenset[str]:
    """The text's number words; a capitalised one inside a sentence is part of a name ('the "Three
    Communications"', 'the "Three New" pilot work'), no count."""
    if NUMBER_WORDS.isdisjoint(_LETTERS.findall(text.casefold())):
        return frozenset()
    return frozenset(w.casefold() for m in _LETTERS.finditer(text) if (w := m.group(0)).casefold() in NUMBER_WORDS
                     and (w.islower() or not text[:m.start()].strip(" \"'“‘(")))


@lru_cache(maxsize=1024)  # a question's and its candidates' quantities are asked for several times per question
def quantities(text: str) -> frozenset[str]:
    """Numbers that count or measure (normalised as extract_numbers does), and number words."""
    words = number_words(text)
    if han_text(text):  # Chinese numerals count too ("三百余名"), so no shortcut on digits
        return frozenset(extract_numbers(without_han_dates(without_dates(text))) | words)
    if not any(ch.isdigit() for ch in text):
        return frozenset(words)
    return frozenset(extract_numbers(without_dates(text)) | words)


@lru_cache(maxsize=1024)  # the question's dates are asked for once per candidate
def _dates(text: str) -> frozenset[str]:
    """Months, years and clock times ("t9:00pm") the text states; in Han text also "july 27", "d22", "t16:40"."""
    if han_text(text):
        return frozenset(extract_months(text) | han_dates(text))
    out = extract_months(text) | set(_YEAR.findall(text))
    return frozenset(out | {"t" + re.sub(r"\s+", "", m.group(0).casefold()) for m in _CLOCK.finditer(text)})


# The question's own question word: the first wh-word (with a preposition before it: "in which city", "by how
# much"). A later one opens a relative clause and asks for nothing: "What post did he hold *when* he met ...?",
# "What do the students *who* enrolled ... hold?" (both used to ask for a date / a person).
_WH = re.compile(r"\b(?:who|whom|whose|when|where|which|what|how)\b", re.I)
_PREPOSITION_BEFORE = re.compile(r"\b(?:in|on|at|by|from|to|for|of|during|until|till|since|through|with|after|before"
                                 r"|under|between|among|into)\s+$", re.I)


_AUX_AFTER = re.compile(r"\s+(?:did|does|do|is|was|were|are|has|have|had|will|would|can|could|should|may|might"
                        r"|must|shall)\b", re.I)


def answer_kind(question: str) -> str | None:
    """person | date | number | place | org | None, from the wording at the question's first wh-word (first
    pattern that matches there wins); a question without a wh-word is read whole. A question with Han characters
    is read by its Chinese question words first (`rag.zh.question.answer_kind_zh`)."""
    if han_text(question) and (kind := answer_kind_zh(question)) is not None:
        return kind
    wh = _WH.search(question)
    later = _WH.search(question, wh.end()) if wh is not None else None
    if (wh is not None and later is not None and wh.group(0).casefold() in ("when", "where")
            and "," in question[wh.end():later.start()] and not _AUX_AFTER.match(question, wh.end())):
        wh = later  # "When rich countries trade ..., whose wages increase?": a subordinate clause opens it
    if wh is None:
        for kind, pattern in _TYPE_PATTERNS:
            if pattern.search(question):
                return kind
        return None
    prep = _PREPOSITION_BEFORE.search(question, 0, wh.start())
    starts = [wh.start()] if prep is None else [prep.start(), wh.start()]
    for kind, pattern in _TYPE_PATTERNS:
        if any(pattern.match(question, i) for i in starts):
            return kind
    return None


@lru_cache(maxsize=1024)  # a sentence is matched again for its lead clause and its clause windows
def _cap_runs(sentence: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(t.casefold().removesuffix("'s").removesuffix("’s") for t in m.group(0).split())
                 for m in _CAP_RUN.finditer(sentence))


def _person_segments(tokens: tuple[str, ...]) -> list[list[str]]:
    """A run's candidate names: split at "and" ("Gong Zheng and Chen Jining"), each cut before "of" ("King
    Ethelred II of England": the place is no part of the name)."""
    out, seg = [], []
    for t in [*tokens, "and"]:
        if t == "and":
            cut = seg.index("of") if "of" in seg else len(seg)
            if cut:
                out.append(seg[:cut])
            seg = []
        else:
            seg.append(t)
    return out


def _is_person(tokens: list[str], q_words: set[str]) -> bool:
    """2-3 name words once titles are dropped ("Comrade Yan Dong", "King Ethelred II"), or initials and a
    surname ("J. F. D. Shrewsbury"); no organisation word; a name the question does not give."""
    if any(t in ORG_WORDS for t in tokens):
        return False
    initials = [t for t in tokens if _INITIAL.match(t)]
    names = [t for t in tokens if t not in NOT_PERSON_WORDS and t not in COMMON_WORDS and not _INITIAL.match(t)]
    return (2 <= len(names) <= 3 or (bool(initials) and bool(names))) and bool(set(names) - q_words)


@lru_cache(maxsize=256)
def _question_words(question: str) -> frozenset[str]:
    return frozenset(w.casefold().removesuffix("'s") for w in _WORD.findall(question))


def _names_question_thing(sentence: str, token: str, q_words: frozenset[str]) -> bool:
    """Does the one-word name only qualify a thing the question names ("led *the Shanghai delegation*" for
    "Where was the delegation?")? Then it says whose the thing is, not where it was."""
    seen = False
    for m in re.finditer(rf"(?<![\w'’]){re.escape(token)}(?![\w'’])(?:\s+([\w\-]+))?", sentence, re.I):
        if not m.group(0)[0].isupper():
            continue
        following = m.group(1) or ""
        if following[:1].isupper() or re.search(rf"[{_UPPER}][\w'’\-]*\s+$", sentence[:m.start()]):
            continue  # part of a longer name ("the CPC Shanghai Municipal Committee"), judged as that
        if not (following.islower() and following in q_words):
            return False
        seen = True
    return seen


def holds_kind(kind: str | None, sentence: str, question: str) -> bool:
    """Does the sentence hold an answer of `kind` that the question does not already state?"""
    if kind is None:
        return False
    if han_text(sentence):
        return _holds_kind_han(kind, sentence, question)
    if kind == "number":
        if asks_count(question):
            return bool(quantities(sentence) - quantities(question))
        if extract_numbers(sentence) - extract_numbers(question) or number_words(sentence) & SMALL_NUMBER_WORDS:
            return True
        return bool(_HOW_LONG.search(question)) and any(m.group(0).casefold() not in question.casefold()
                                                        for m in _DURATION.finditer(sentence))
    if kind == "date":
        return bool(_dates(sentence) - _dates(question) - extract_numbers(question))
    if kind == "person" and holds_possessor(sentence, question):
        return True
    q_words = _question_words(question)
    for tokens in _cap_runs(sentence):
        new = [t for t in tokens if t not in q_words and t not in COMMON_WORDS]
        if not new:
            continue
        if kind == "person" and any(_is_person(name, q_words) for name in _person_segments(tokens)):
            return True
        elif kind == "org":
            if any(t in ORG_WORDS for t in tokens) and len(tokens) >= 2:
                return True
        elif kind == "place":
            if _is_place(tokens, sentence, q_words):
                return True
    if kind == "org" and _names_an_org(sentence, q_words):
        return True
    return kind == "org" and bool(re.search(r"[\"“][^\"”]{6,}[\"”]", sentence))


def _holds_kind_han(kind: str, sentence: str, question: str) -> bool:
    """`holds_kind` for a sentence with Han characters: a quantity (in the unit asked: "多少家" wants "173家"), a
    date, or a person / place / organisation jieba tags, that the question does not already state."""
    if kind == "number":
        if asks_count(question):
            units = asked_units(question) if han_text(question) else ()
            if units:
                return states_unit(without_han_dates(sentence), units)
            return bool(quantities(sentence) - quantities(question))
        return bool(extract_numbers(sentence) - extract_numbers(question))
    if kind == "date":
        return bool(_dates(sentence) - _dates(question) - extract_numbers(question))
    # a name holding one the question gives is that one, cut with a character more ("温伯才开了门": 温伯才)
    asked = han_name_like(question) if han_text(question) else frozenset()
    return any(name not in question and not any(a in name for a in asked) for name in han_names(sentence).of_kind(kind))


def _names_an_org(sentence: str, q_words: frozenset[str]) -> bool:
    """A name the question does not give, followed by an organisation's kind noun: "the Arc'teryx brand" is a
    brand though it holds no organisation word. One capitalised word opening the sentence may be any word
    ("Foreign companies")."""
    for m in _NAMED_ORG.finditer(sentence):
        words = _cap_words(m.group(1))
        if set(words) - q_words - COMMON_WORDS and (len(words) > 1 or sentence[:m.start()].strip(" \"'“‘(")):
            return True
    return False


def _cap_words(run: str) -> list[str]:
    return [t.casefold().removesuffix("'s").removesuffix("’s") for t in run.split()]


def _is_place(tokens: tuple[str, ...], sentence: str, q_words: frozenset[str]) -> bool:
    """A run with a place word, or one capitalised word that is neither a title or an organisation's word
    ("Secretary of the ...") nor only says whose the question's thing is ("the Shanghai delegation")."""
    return any(t in PLACE_WORDS for t in tokens) or (len(tokens) == 1 and tokens[0] not in NOT_PERSON_WORDS
                                                      and not _names_question_thing(sentence, tokens[0], q_words))


# "Where ...?" asks where: a place after a locative preposition ("remote villages *in Shigatse City*"), not one
# that is part of a title ("Secretary of the Party Committee of the Xizang Autonomous Region").
_LOCATIVE = re.compile(r"\b(?:in|at|into|to|near|inside|across|throughout|around|outside)\s+(?:the\s+)?$", re.I)


def holds_location(sentence: str, question: str) -> bool:
    """Does the sentence hold a place the question does not state, after a locative preposition?"""
    if han_text(sentence):
        return _holds_location_han(sentence, question)
    q_words = _question_words(question)
    for m in _CAP_RUN.finditer(sentence):
        tokens = tuple(_cap_words(m.group(0)))
        if (any(t not in q_words and t not in COMMON_WORDS for t in tokens) and _is_place(tokens, sentence, q_words)
                and _LOCATIVE.search(sentence, 0, m.start())):
            return True
    return False


# Chinese locatives: "*在*浙江衢州举行", "出生*于*湖南邵阳", "*赴*南非"; the place follows within LOCATIVE_REACH words.
_HAN_LOCATIVES = frozenset("在 于 到 赴 至 从 来自 位于 抵达 前往 落户 举行于 出生于".split())
LOCATIVE_REACH = 2


def _holds_location_han(sentence: str, question: str) -> bool:
    places = han_names(sentence).place - {p for p in han_names(sentence).place if p in question}
    if not places:
        return False
    tokens = [w for w, _ in han_tag(sentence)]
    last_locative = -LOCATIVE_REACH - 1
    for i, w in enumerate(tokens):
        if w in _HAN_LOCATIVES:
            last_locative = i
        elif w in places and i - last_locative <= LOCATIVE_REACH:
            return True
    return False


# "Whose attention did ... attract?" asks for the possessor of the thing it names, often a group without a name:
# "the attention *of many elderly people*", "the opinions and suggestions *of local cadres*", "*farmers'* homes".
_WHOSE = re.compile(r"\bwhose\s+([a-z]+)", re.I)


def holds_possessor(sentence: str, question: str) -> bool:
    """For a "whose <thing>" question: does the sentence name a lower-case possessor of the thing ("<thing>
    of <people>", "<people>'s <thing>")? A named possessor is a person's name, matched as one."""
    m = _WHOSE.search(question)
    if m is None:
        return False
    thing = re.escape(m.group(1).casefold().removesuffix("s"))
    return bool(re.search(rf"\b{thing}\w*(?:\s+and\s+\w+)?\s+of\s+(?:the\s+)?[a-z]"
                          rf"|\b[a-z][\w\-]*(?:['’]s|s['’])\s+{thing}", sentence))
