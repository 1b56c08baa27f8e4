"""Read a typed question's chat shorthand as written words before it is answered ("whats" -> "what is").

People type questions the way they chat: "whats", "ppl", "n", "govt". The evidence scorer and the answer
checks were fitted on written questions: a chat word the documents never use counts as a question term
found nowhere (answerability drops, a right answer is refused). So after retrieval, before scoring, the
question the answer steps read has chat shorthand spelled out (`SHORTHAND`, whole words only: "n" and "&"
only between two words) and filler that asks nothing dropped ("etc", "stuff", "pls"). Retrieval keeps the
typed question (the encoder is uncased; keyword search ignores what it cannot match), and the reply shows
what the user typed. English only: a Chinese question is returned unchanged.

Tried and dropped: capitalising a lower-case word as the retrieved passages write it ("jd" -> "JD"). The
scorer then weighed those names as a written question's, and typed questions lost more than they gained
(`train2` extractive 47 -> 45 of 69 right, `train3` 68 -> 67 of 110; shorthand alone: 48 and 68).
"""

from __future__ import annotations

import re

from rag.zh.script import han_text

# Chat shorthand -> the written words (lower case; the first letter's case is kept when it is replaced; a word
# typed in capitals is left alone, as it may be an acronym).
SHORTHAND: dict[str, str] = {
    "whats": "what is", "wats": "what is", "wat": "what", "wht": "what", "whos": "who is", "wheres": "where is",
    "whens": "when is", "hows": "how is", "hw": "how",
    "ppl": "people", "govt": "government", "gov": "government",
    "yr": "year", "yrs": "years", "u": "you", "ur": "your", "abt": "about", "bout": "about", "thru": "through",
    "bc": "because", "cuz": "because", "coz": "because", "b4": "before", "w/": "with", "w/o": "without",
    "info": "information", "approx": "approximately", "dept": "department", "intl": "international",
    "natl": "national", "mgmt": "management", "tho": "though", "pct": "percent", "mil": "million",
    "bn": "billion", "num": "number", "amt": "amount", "qty": "quantity",
    "dont": "do not", "doesnt": "does not", "didnt": "did not", "isnt": "is not", "wasnt": "was not",
    "arent": "are not", "werent": "were not", "cant": "cannot", "havent": "have not", "hasnt": "has not",
    "uni": "university", "univ": "university", "exec": "executive", "rep": "representative",
    "reps": "representatives", "regs": "regulations", "hrs": "hours", "mins": "minutes", "biz": "business",
    "corp": "corporation", "mgr": "manager",
}
FILLER = frozenset({"etc", "stuff", "pls", "plz", "please", "thx", "lol", "btw", "idk", "tia"})  # not "thanks": "thanks to"
# "n" and "&" stand for "and" only between two words ("jd n suning"), never at the start or end.
_AND = re.compile(r"(?<=\w)\s+(?:n|&|'n')\s+(?=\w)", re.IGNORECASE)
_TOKEN = re.compile(r"(?<![A-Za-z0-9'’])(?:[A-Za-z][A-Za-z0-9'’/.]*[A-Za-z0-9/]|[A-Za-z])")  # not "rd" of "3rd"


def written(question: str) -> str:
    """The typed question read as written (see the module docstring); a Chinese one unchanged."""
    if han_text(question):
        return question
    text = _AND.sub(" and ", question)

    def word(m: re.Match[str]) -> str:
        typed = m.group(0)
        low = typed.casefold()
        if low in FILLER:
            return ""
        if low in SHORTHAND and not (typed.isupper() and len(typed) > 1):  # "EC", "UNI" may be acronyms
            full = SHORTHAND[low]
            return full[0].upper() + full[1:] if typed[0].isupper() else full
        return typed

    text = _TOKEN.sub(word, text)
    if text == question:  # nothing to read: the question exactly as typed
        return question
    text = re.sub(r"\s+([,?.!])", r"\1", re.sub(r"[ \t]{2,}", " ", text)).strip()
    text = re.sub(r"(?:,\s*)+([?.!]?)$", r"\1", text)  # "night time stuff etc" left a trailing comma
    return text or question
