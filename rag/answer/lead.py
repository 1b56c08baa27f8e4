"""The lead of a sentence: where its subject stands, after any opening adverbial.

A question asking for a person or an organisation is answered by a sentence's subject ("Xue Kan, Secretary
..., chaired"); a date, a number or a place often stands in its opening clause ("On June 20th, ..."). Both the
`kind_lead` feature (`rag.answer.features`) and the composer's clause window (`rag.answer.extractive`) read it.
"""

from __future__ import annotations

import re

from rag.zh.script import han_text
from rag.zh.words import mixed_words

LEAD_WORDS = 8  # a sentence's subject sits in its first few words (before the first comma)
_WORD = re.compile(r"[^\W_][\w'’\-]*")  # the words `rag.answer.features` counts

# A sentence-opening adverbial ("From July 17 to 18,", "This morning,", "In 1961,", "However,") is not the
# subject: the lead starts after it ("From July 17 to 18, Chen Jining, Secretary ..., led the delegation").
_OPENER = re.compile(
    r"(?:from|on|in|at|since|during|after|before|until|by|over|throughout|within|following|according to|under"
    r"|as of|for example|recently|yesterday|today|tonight|currently|previously|earlier|later|meanwhile|however"
    r"|moreover|furthermore|additionally|subsequently|afterwards|then|now|finally|also|again|in addition"
    r"|(?:this|last|next|that)\s+(?:morning|afternoon|evening|night|week|month|year|spring|summer|autumn|winter))\b",
    re.I)
MAX_OPENERS = 2  # "At 9:00 pm on June 20th, ..." is one; two in a row is already rare


# Chinese openers before the subject: a date or time ("7月27日晚，", "22日，"), or an adverbial ("近日，", "据悉，").
_HAN_OPENER = re.compile(
    r"\s*(?:(?:\d{4}\s*年)?\s*(?:\d{1,2}\s*月)?\s*(?:\d{1,2}\s*[日号])?\s*(?:[上中下]午|早上|晚上|凌晨|傍晚|晚|上旬|中旬|下旬|底|初)?"
    r"|近日|日前|目前|当前|此前|随后|此外|另外|同时|据悉|据了解|据报道|据介绍|今年以来|今年|去年|昨天|昨日|今天|今日|当天"
    r"|当日|近年来|近期|最近|其中|然而|但是|不过|因此|所以|对此|为此|与此同时|记者了解到)\s*[,，]")
_HAN_COMMA = re.compile(r"[,，;；:：]")


def _lead_span_han(text: str, skip_openers: bool) -> tuple[int, int]:
    """`lead_span` of a sentence with Han characters: after its openers, up to the next comma (，or ,), at most
    LEAD_WORDS words (jieba's)."""
    start = 0
    for _ in range(MAX_OPENERS if skip_openers else 0):
        m = _HAN_OPENER.match(text, start)
        if m is None or m.end() - start <= 1 or not text[m.end():].strip():
            break
        start = m.end() + (len(text[m.end():]) - len(text[m.end():].lstrip()))
    comma = _HAN_COMMA.search(text, start)
    end = comma.start() if comma else len(text)
    words, pos = 0, start
    for w in mixed_words(text[start:end], _WORD):
        found = text.find(w, pos, end)
        if found < 0:
            break
        pos, words = found + len(w), words + 1
        if words == LEAD_WORDS:
            break
    return start, pos


def lead_span(text: str, skip_openers: bool = True) -> tuple[int, int]:
    """Where the sentence's lead (its subject) lies: up to the next comma, at most LEAD_WORDS words, after
    at most MAX_OPENERS opening adverbials ending in a comma (kept with `skip_openers=False`)."""
    if han_text(text):
        return _lead_span_han(text, skip_openers)
    start = 0
    for _ in range(MAX_OPENERS if skip_openers else 0):
        comma = text.find(",", start)
        if comma < 0 or not _OPENER.match(text, start) or not text[comma + 1:].strip():
            break
        start = comma + 1 + (len(text[comma + 1:]) - len(text[comma + 1:].lstrip()))
    comma = text.find(",", start)
    end = comma if comma >= 0 else len(text)
    words = list(re.finditer(r"\S+", text[start:end]))[:LEAD_WORDS]
    return start, start + (words[-1].end() if words else 0)


def lead_clause(text: str, skip_openers: bool = True) -> str:
    """The sentence's lead: its subject, up to the next comma or LEAD_WORDS words, after any opening adverbial
    (with `skip_openers=False`: its first clause, where "On June 20th," states a date)."""
    a, b = lead_span(text, skip_openers)
    return text[a:b]


