"""Is the answer about what was asked? An English question's names and years must occur where its answer stands.

The near miss that most wrong answers to unanswerable questions are (issue 28): the question is on the
topic of an article but about something the article never mentions, and an answer of the right kind is
found anyway: "How many flagship stores has Suning opened?" answered from JD's store count, "Who was the
mayor in 1961?" from today's mayor, "the 2021-2025 plan" from the 2023-2026 one. The scorer weighs the
question's key terms sentence by sentence and trades them against everything else; here the rule is
hard: every name the question gives (a capitalised word that is not filler, an all-capital acronym) and
every year it names must occur in an article the answer quotes (its text, title or date). The article,
not the sentence: a press release names its subject once and says "the company" afterwards.

Typing is forgiving: a name matches a word of the article that is spelled nearly the same (a letter or
two, "Shangai"), an acronym matches the initials of the words it stands for ("MIIT", "Ministry of Industry
and Information Technology"), a possessive or plural counts as the word. A question in lower case gives
no capitalised names; its years are still checked.

Only English questions over English articles are checked (`rag.answer.grounding` does Chinese).
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process

from rag.answer.citations import ArticleLookup
from rag.answer.parts import question_parts
from rag.cite.terms import extract_numbers
from rag.lexicon import COMMON_WORDS, MONTH_ABBREVIATIONS, MONTH_NAMES, NUMBER_VALUES
from rag.models import Answer
from rag.zh.script import han_text

_WORD = re.compile(r"[A-Za-z][A-Za-z'’.\-]*[A-Za-z]|[A-Za-z]")
_YEAR = re.compile(r"(?<![\d.,])(1[6-9]\d\d|20\d\d)(?![\d.,]\d)")
_ACRONYM = re.compile(r"^[A-Z]{2,6}s?$")
_BOTH = re.compile(r"\bboth\b", re.IGNORECASE)
_INITIAL_SKIP = frozenset({"of", "and", "the", "for", "&", "on", "in"})
# Capitalised words a question uses that are no name of anything ("Please", "Mr"), besides COMMON_WORDS.
NOT_NAMES = frozenset("""please tell list name give show mr mrs ms dr prof sir madam monday tuesday wednesday thursday
friday saturday sunday i i'm what's who's where's when's how's ok okay hi hello thanks thank""".split())
FUZZY_MIN_CHARS = 5  # shorter names must match exactly (a one-letter slip in "Gong" is another name)
FUZZY_SCORE = 80  # rapidfuzz ratio: "shangai"/"shanghai" 93, "suning"/"sunning" 92, "gong"/"gang" below the length


def question_names(question: str) -> list[str]:
    """The names an English question gives, as typed: capitalised words that are not filler, first word included
    only when it is an acronym or not a word a question starts with."""
    found: list[str] = []
    for i, m in enumerate(_WORD.finditer(question)):
        word = m.group(0).strip("'’.-")
        if not word or not word[0].isupper():
            continue
        low = _base(word.casefold())
        if low in COMMON_WORDS or low in NOT_NAMES or low in MONTH_NAMES or low in MONTH_ABBREVIATIONS:
            continue
        if len(low) < 2 and not _ACRONYM.match(word):
            continue
        if i == 0 and not _ACRONYM.match(word):  # "Suning" can start a question, but so can "Name"/"Count"
            continue
        if word not in found:
            found.append(word)
    return found


def passage_names(texts: list[str]) -> set[str]:
    """Words the passages only ever write capitalised inside a sentence ("jd", "shigatse", "gong"): a question
    typed in lower case names something when it uses one of them."""
    upper: set[str] = set()
    lower: set[str] = set()
    for text in texts:
        for m in _WORD.finditer(text):
            w = m.group(0).strip("'’.-")
            if not w:
                continue
            low = _base(w.casefold())
            if not w[0].isupper():
                lower.add(low)
            elif m.start() > 0 and text[:m.start()].rstrip()[-1:] not in ".!?:;\"“\n" and text[:m.start()].strip():
                upper.add(low)
    return {w for w in upper - lower if len(w) >= 2 and w not in COMMON_WORDS and w not in NOT_NAMES
            and w not in MONTH_NAMES and w not in MONTH_ABBREVIATIONS}


def lower_case_names(question: str, known: set[str]) -> list[str]:
    """The question's words, in any case, that the passages write as names (see `passage_names`)."""
    out: list[str] = []
    for m in _WORD.finditer(question):
        w = m.group(0).strip("'’.-")
        if w and w[0].islower() and _base(w.casefold()) in known and w not in out:
            out.append(w)
    return out


_ORDINALS = {w: i for i, w in enumerate("first second third fourth fifth sixth seventh eighth ninth tenth eleventh "
                                         "twelfth".split(), start=1)}
# A number right after these counts the answer's items ("which two events", "name three"), not a fact to find.
# So does one that opens the question ("3 neighbourhood problems sorted out in anqiu").
_COUNTS_ANSWER = re.compile(r"(?:\b(?:which|what|name|list|give|the\s+top)(?:\s+(?:are|were|is|was|the|me))*\s+|^\s*)$",
                            re.IGNORECASE)


def _numbers(text: str) -> set[str]:
    """Numbers in digits (normalised as `extract_numbers` does; "3rd" is 3) and the number and ordinal words up
    to ninety as digits."""
    words = {str(NUMBER_VALUES.get(w, _ORDINALS.get(w))) for m in _WORD.finditer(text)
             if (w := m.group(0).casefold()) in NUMBER_VALUES or w in _ORDINALS}
    return extract_numbers(text) | words


def question_numbers(question: str) -> list[str]:
    """The figures a question gives ("the six new cities", "the 15th plan", "aged 60"), years aside (see
    `question_years`); "one" and "1" are left out: "one of", "No. 1" say little."""
    years = set(question_years(question))
    kept = re.sub(r"\S+", lambda m: m.group(0) if not _COUNTS_ANSWER.search(question[:m.start()]) else " ",
                  question)
    return sorted(n for n in _numbers(kept) if n not in years and n not in ("0", "1"))


def question_years(question: str) -> list[str]:
    return list(dict.fromkeys(_YEAR.findall(question)))


def _base(low: str) -> str:
    for tail in ("'s", "’s", "s'", "’"):
        if low.endswith(tail) and len(low) > len(tail) + 1:
            return low[: -len(tail)]
    return low


def _words(text: str) -> tuple[set[str], list[str]]:
    """The article's words (casefolded, possessives cut) and its capitalised words in order (for acronyms)."""
    words: set[str] = set()
    ordered: list[str] = []
    for m in _WORD.finditer(text):
        w = m.group(0).strip("'’.-")
        if not w:
            continue
        for part in re.split(r"[.\-]", w):
            if part:
                words.add(_base(part.casefold()))
        words.add(_base(w.casefold()))
        ordered.append(w)
    return words, ordered


def _initials(ordered: list[str], max_words: int = 8) -> set[str]:
    """Initials of every run of capitalised words ("Ministry of Industry and Information Technology" -> "MIIT")."""
    out: set[str] = set()
    for i, w in enumerate(ordered):
        if not w[0].isupper():
            continue
        letters = ""
        for v in ordered[i:i + max_words]:
            if v.casefold() in _INITIAL_SKIP:
                continue
            if not v[0].isupper():
                break
            letters += v[0]
            if len(letters) >= 2:
                out.add(letters.casefold())
    return out


def _named(name: str, words: set[str], initials: set[str]) -> bool:
    low = _base(name.casefold())
    parts = [p for p in re.split(r"[.\-'’]", low) if p]
    if low in words or (parts and all(p in words for p in parts)):
        return True
    if low.endswith("s") and low[:-1] in words:  # "Expos", "GDPs"
        return True
    if _ACRONYM.match(name) and low.rstrip("s") in initials:
        return True
    if len(low) >= 4 and any((w.startswith(low) and len(w) - len(low) <= 4)  # "Brazil": "Brazilian"
                             or (len(w) >= 4 and low.startswith(w) and len(low) - len(w) <= 2)  # "Rican": "Rica"
                             for w in words):
        return True
    if len(low) >= FUZZY_MIN_CHARS:
        near = [w for w in words if abs(len(w) - len(low)) <= 2 and len(w) >= FUZZY_MIN_CHARS - 1]
        return process.extractOne(low, near, scorer=fuzz.ratio, score_cutoff=FUZZY_SCORE) is not None
    return False


def _years(text: str, date: str | None) -> set[str]:
    """The years an article states: written ones, its date's, and the ones it says relative to its date."""
    found = set(_YEAR.findall(text))
    if date and date[:4].isdigit():
        year = int(date[:4])
        found.add(str(year))
        low = text.casefold()
        if "last year" in low or "previous year" in low:
            found.add(str(year - 1))
        if "next year" in low:
            found.add(str(year + 1))
    return found


def two_sided(question: str) -> bool:
    """A question about two things ("who chaired X, and who spoke at Y", "which secretary both met X and led Y"):
    one answer sentence may stand on one article while the other thing is in another retrieved one."""
    return len(question_parts(question)) > 1 or bool(_BOTH.search(question))


def unstated_specifics(question: str, answer: Answer, articles: ArticleLookup, passages: list[tuple[str, str | None]],
                       two_sided_question: bool = False) -> list[str]:
    """The question's names and years that occur in none of the articles the answer quotes ([] when all do, when
    nothing is to be checked, or when the question or the articles are Chinese). `passages`: the retrieved
    (text, date) pairs: they say which lower-case words are names, and for a two-sided question they count too."""
    if answer.refused or not answer.citations or han_text(question):
        return []
    names = question_names(question) + lower_case_names(question, passage_names([t for t, _ in passages]))
    years, figures = question_years(question), question_numbers(question)
    if not names and not years and not figures:
        return []
    texts: dict[str, str] = {}
    stated_years: set[str] = set()
    for c in answer.citations:
        if c.doc_id in texts:
            continue
        article = articles(c.doc_id)
        if article is None:
            texts[c.doc_id] = c.quote
            stated_years |= _years(c.quote, None)
            continue
        texts[c.doc_id] = " ".join(filter(None, [article.title or "", article.text]))
        stated_years |= _years(texts[c.doc_id], article.date)
    for n, (extra, date) in enumerate(passages if two_sided_question else []):
        texts[f"passage-{n}"] = extra
        stated_years |= _years(extra, date)
    whole = "\n".join(texts.values())
    if han_text(whole):
        return []
    words, ordered = _words(whole)
    initials = _initials(ordered)
    missing = [n for n in names if not _named(n, words, initials)]
    stated_figures = _numbers(whole) if figures else set()
    # two digits may be a year typed short ("back in 61"): a year the articles state ending in them counts
    short_years = {y[2:] for y in stated_years}  # every text in `whole` added its written years above
    return missing + [y for y in years if y not in stated_years] + [
        f for f in figures if f not in stated_figures and f not in short_years]
