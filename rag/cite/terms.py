"""Key terms of a sentence (numbers, dates, names) and the normalisation used to match them.

A citation is only trustworthy when every checkable fact of the sentence occurs in the quoted
span: a number, a month, a year, a person or a place. Those are the "key terms". Matching is done
on a normalised form (NFKC, casefold, "1,215" == "1215", "3.5 percent" == "3.5%", "09" == "9")
so formatting differences never fail a correct citation while a changed digit always does.
"""

from __future__ import annotations

import re
import unicodedata

from rag.lexicon import COMMON_WORDS, MONTH_ABBREVIATIONS, MONTH_NAMES, NOT_A_UNIT
from rag.zh.numbers import fold_numbers
from rag.zh.pos import names as han_names
from rag.zh.script import HAN_CHAR, han_text, has_han
from rag.zh.stopwords import is_stop
from rag.zh.timex import han_months
from rag.zh.words import mixed_words, without_han

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_NUMBER_RE = re.compile(rf"(?<![\w.])(?:{_NUM})(?:\s?%)?(?!\d)")
# In Han text a number is glued to the words around it ("在2023年", "投资500万元"): only a Latin letter, a digit,
# "_" or "." before it makes it part of something else.
_HAN_NUMBER_RE = re.compile(rf"(?<![.])(?<!(?![{HAN_CHAR}])\w)(?:{_NUM})(?:\s?%)?(?!\d)")
# Han text is read with its numbers folded (`fold_numbers`: "五百万元" and "500万元" are both 5000000). A number the
# folding made out of numeral characters is kept only from 3 digits or as a percentage on: one numeral character
# is mostly part of a word (统一, 一起, 十分 "very").
MIN_FOLDED_DIGITS = 3
_ISO_DATE_RE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_WORD_RE = re.compile(r"[^\W\d_][\w'’\-]*", re.UNICODE)
_MARKER_RE = re.compile(r"\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\]")
_THOUSANDS_RE = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_PERCENT_RE = re.compile(r"(?<=\d)\s*(?:percent|per cent|pct)\b|(?<=\d)\s+%")


def strip_markers(text: str) -> str:
    """Remove citation markers like [1], [1][2], [1, 2] from a sentence."""
    return _MARKER_RE.sub("", text).strip()


def _iso_to_words(m: re.Match[str]) -> str:
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if 1 <= month <= 12 and 1 <= day <= 31:
        return f"{MONTH_NAMES[month - 1]} {day}, {year}"
    return m.group(0)


def normalize_for_match(text: str) -> str:
    """The form both sentence terms and spans are compared in."""
    t = unicodedata.normalize("NFKC", text).casefold()
    t = t.replace("\u2019", "'").replace("\u2018", "'")
    t = _ISO_DATE_RE.sub(_iso_to_words, t)
    t = _THOUSANDS_RE.sub("", t)
    t = _PERCENT_RE.sub("%", t)
    return t


def _norm_number(raw: str) -> str:
    n = raw.replace(",", "").replace(" ", "")
    pct = n.endswith("%")
    n = n.rstrip("%")
    if "." in n:
        whole, frac = n.split(".", 1)
        frac = frac.rstrip("0")
        n = (whole.lstrip("0") or "0") + ("." + frac if frac else "")
    else:
        n = n.lstrip("0") or "0"
    return n + ("%" if pct else "")


def extract_numbers(text: str) -> set[str]:
    """Numbers in normalised form: '1,215' -> '1215', '3.50 %' -> '3.5%', '09' -> '9'. In Han text also the digits
    glued to Han words ("2023年" -> '2023') and numbers written in numerals or with 万/亿 ("五百万" -> '5000000')."""
    t = _PERCENT_RE.sub("%", _ISO_DATE_RE.sub(_iso_to_words, unicodedata.normalize("NFKC", text)))
    if not han_text(t):
        return {_norm_number(m.group(0)) for m in _NUMBER_RE.finditer(t)}
    written = {_norm_number(m.group(0)) for m in _HAN_NUMBER_RE.finditer(t)}
    folded = {_norm_number(m.group(0)) for m in _HAN_NUMBER_RE.finditer(fold_numbers(t))}
    return {n for n in folded if n in written or len(n) >= MIN_FOLDED_DIGITS or n.endswith("%")}


def _is_sentence_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip(" \t\"'“‘(")
    return not before or before[-1] in ".!?:;\n"


def extract_names(text: str) -> set[str]:
    """Capitalised words (casefolded) that are not filler: 'Gong Zheng' -> {'gong', 'zheng'}. In Han text also the
    persons, places and organisations jieba tags ("王文涛", "衢州", "商务部"), each one term."""
    if han_text(text):
        han = han_names(text)
        return _latin_names(without_han(text)) | han.person | han.place | han.org
    return _latin_names(text)


def _latin_names(text: str) -> set[str]:
    names: set[str] = set()
    for m in _WORD_RE.finditer(text):
        word = m.group(0).strip("'’-")
        if not word or not word[0].isupper():
            continue
        low = word.casefold()
        if low.endswith("'s") or low.endswith("’s"):
            low = low[:-2]
        if low in COMMON_WORDS or len(low) < 2:
            continue
        if low in MONTH_NAMES or low in MONTH_ABBREVIATIONS:
            names.add(MONTH_ABBREVIATIONS.get(low, low))
            continue
        # A sentence-initial word is a name only if it is not filler; checked above, so keep it.
        names.add(low)
    return names


def extract_months(text: str) -> set[str]:
    """Month names written in any case ('May' only when capitalised: 'may' is a verb)."""
    if han_text(text):  # "7月", "七月"; and the Latin words between the Han runs ("July 7月")
        return _latin_months(without_han(text)) | han_months(text)
    return _latin_months(text)


def _latin_months(text: str) -> set[str]:
    months: set[str] = set()
    for m in _WORD_RE.finditer(_ISO_DATE_RE.sub(_iso_to_words, text)):
        low = m.group(0).casefold().rstrip(".")
        if low == "may" and not m.group(0)[0].isupper():
            continue
        if low in MONTH_NAMES:
            months.add(low)
        elif low in MONTH_ABBREVIATIONS and m.group(0)[0].isupper():
            months.add(MONTH_ABBREVIATIONS[low])
    return months


def extract_key_terms(sentence: str) -> set[str]:
    """Numbers, months/years and capitalised names of a sentence, in normalised form.

    Citation markers are ignored. Names are single casefolded words, so "Xue Kan" must be backed
    by both "xue" and "kan" in the span; sentence-initial filler ("However", "The") is not a name.
    """
    text = strip_markers(sentence)
    terms = extract_numbers(text) | extract_months(text) | extract_names(text)
    return terms


def term_in_text(term: str, normalized_text: str) -> bool:
    """Whole-token match of a normalised term in normalised text ('95' does not match '1995').

    Numbers are compared as extracted numbers on both sides, so '9:00' holds 9 and 0 whichever
    way it is written, and a bare '12' is backed by '12%' (but '12%' needs the percent).
    """
    if term[0].isdigit():
        found = extract_numbers(normalized_text)
        return term in found or (not term.endswith("%") and f"{term}%" in found)
    if has_han(term):  # Chinese writes no spaces between words: a Han name is held where its characters occur
        return term in normalized_text
    if term in MONTH_NAMES and han_text(normalized_text) and term in han_months(normalized_text):
        return True  # "july" is backed by "7月"
    if han_text(normalized_text):  # a Latin name beside Han words ("PC数据"): only Latin letters may not touch it
        return re.search(rf"(?<![^\W{HAN_CHAR}]){re.escape(term)}(?:'s|s|es)?(?![^\W{HAN_CHAR}])",
                         normalized_text) is not None
    # Names: allow a possessive or plural tail ("Shanghai's", "Germans") but not a longer word.
    return re.search(rf"(?<!\w){re.escape(term)}(?:'s|s|es)?(?!\w)", normalized_text) is not None


_TOKEN_RE = re.compile(r"\d[\d.,]*%?|[^\W\d_][\w'\-]*")
UNIT_WINDOW = 10  # words of context compared on each side of a number
_HAN_DATE_UNITS = "年月日号时点分秒"  # after a number they make it part of a date or a time ("7月27日", "16时")


def _unit_stem(word: str) -> str:
    return word.casefold().removesuffix("'s")[:5]


def unbound_numbers(sentence: str, span: str) -> list[str]:
    """Numbers of the sentence whose following words share nothing with the words around the
    same number in the span.

    Catches a real number attached to the wrong thing ("1,215 floors" cited to a span about
    "1,215 new first-office stores"), which a plain "the number occurs" check lets through, while
    a paraphrase keeps some word of its context ("95 undergraduates will graduate" ~ "95 students
    will graduate").
    """
    def content(words: list[str]) -> set[str]:
        return {_unit_stem(w) for w in words
                if not w[0].isdigit() and w.casefold() not in NOT_A_UNIT and not (has_han(w) and is_stop(w))}

    def tokens(text: str) -> list[str]:
        t = _PERCENT_RE.sub("%", unicodedata.normalize("NFKC", strip_markers(text)))
        # Han runs as jieba's words, so that "投资500万元" gives the number and its unit "万元"
        return mixed_words(t, _TOKEN_RE) if han_text(t) else _TOKEN_RE.findall(t)

    if han_text(sentence) != han_text(span):
        return []  # an English sentence citing a Chinese span (or back): their words around a number never meet
    sent, spn = tokens(sentence), tokens(span)
    out = []
    for i, tok in enumerate(sent):
        if not tok[0].isdigit() or tok.endswith("%"):
            continue
        after = sent[i + 1 : i + 1 + UNIT_WINDOW]
        if after and (after[0].casefold() in MONTH_NAMES or after[0][0].isupper() or after[0][0] in _HAN_DATE_UNITS):
            continue  # a date ("17 July", "7月27日") or a name follows: not a counted thing
        mine = content(after)
        number = _norm_number(tok.rstrip(".,"))
        around = [
            spn[max(0, j - UNIT_WINDOW) : j + 1 + UNIT_WINDOW]
            for j, t in enumerate(spn)
            if t[0].isdigit() and _norm_number(t.rstrip(".,")) == number
        ]
        if not mine or not around:
            continue  # nothing to bind, or the number itself is missing (reported elsewhere)
        theirs = set().union(*(content(w) for w in around))
        if not any(a.startswith(b) or b.startswith(a) for a in mine for b in theirs):
            out.append(f"{number} {after[0].casefold()}")
    return out


def missing_terms(sentence: str, span: str) -> list[str]:
    """Key terms of `sentence` that do not occur in `span` (and numbers bound to another noun there),
    sorted for stable output."""
    norm_span = normalize_for_match(span)
    span_numbers = extract_numbers(norm_span)
    missing = []
    for t in extract_key_terms(sentence):
        if t[0].isdigit():
            ok = t in span_numbers or (not t.endswith("%") and f"{t}%" in span_numbers)
        else:
            ok = term_in_text(t, norm_span)
        if not ok:
            missing.append(t)
    return sorted(missing + unbound_numbers(sentence, span))
