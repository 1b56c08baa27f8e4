"""How well a sentence answers a question: the scoring shared by the extractive answerer, the
refusal policy's calibration and the LLM answerer's search for a supporting quote.

score = cosine(question, sentence)
      + TERM_WEIGHT   * IDF-weighted share of the question's terms the sentence holds
      + TYPE_WEIGHT   * [the sentence holds the kind of thing asked for (a number for "how many",
                         a person's name for "who", a date for "when") that the question itself lacks]
      - UNTYPED_PENALTY * [the question asks for such a thing and the sentence holds none]
      + RANK_WEIGHT   * retrieval-rank bonus (1 for the top passage, falling to 0)
      - SHORT_PENALTY * [fewer than MIN_WORDS words: titles and datelines rarely answer]

Question terms are its key terms (numbers, dates, names: `rag.cite.terms`) and its stemmed content
words. IDF is computed over the candidate sentences themselves, so a word in every candidate
("Shanghai" in a Shanghai collection) counts for little and a rare one ("first-office") a lot.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import Stemmer

from rag.cite.terms import COMMON_WORDS, extract_key_terms, extract_months, extract_numbers

TERM_WEIGHT = 0.35
TYPE_WEIGHT = 0.15
UNTYPED_PENALTY = 0.15
RANK_WEIGHT = 0.04
SHORT_PENALTY = 0.15
MIN_WORDS = 6
NEAR_WORDS = 8

_WORD = re.compile(r"[^\W_][\w'’\-]*")
_QUESTION_FILLER = frozenset("did does do many much according which what who whom whose when where why how".split())

_TYPE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("number", re.compile(r"\bhow (many|much|long|old|large|big|far|often)\b|\bwhat (percentage|number|share|amount)\b", re.I)),
    ("date", re.compile(r"\bwhen\b|\b(what|which) (year|date|dates|day|days|month|period|time)\b|\bon which dates?\b", re.I)),
    ("person", re.compile(r"\bwho(m|se)?\b|\b(which|what) (\w+ ){0,3}?(minister|mayor|official|person|leader|secretary|chairman|chairwoman|president|director|head|governor|representative)\b", re.I)),
    ("place", re.compile(r"\bwhere\b|\b(what|which) (city|country|district|place|location|province|street|road)\b", re.I)),
    ("name", re.compile(r"\b(which|what) (\w+ ){0,2}?(company|companies|organi[sz]ation|firm|university|group|brand|plan|platform|program|programme|project|event|agency|ministry)\b", re.I)),
]

class TextEncoder(Protocol):
    def encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray: ...


# Capitalised words that mark an organisation, a title or a place, not a person's name.
_NOT_PERSON = frozenset(
    """ministry minister committee department office government council party congress district city road
    street province municipal university group company bureau commission association center centre session
    plan national people's people comrade mr mrs ms dr vice deputy secretary mayor chairman president director
    general central state standing executive board expo shanghai beijing china chinese cpc conference
    economic work meeting forum festival exhibition museum store hospital school college institute bank
    news daily new area zone park week day year report action""".split()
)
_CAP_RUN = re.compile(r"(?:[A-Z][\w'’\-]*)(?:\s+[A-Z][\w'’\-]*)*")


def _name_runs(sentence: str, person: bool) -> list[tuple[str, int, int]]:
    """Capitalised runs as (casefolded name, start, end). person=True keeps only runs of two or more
    words with no organisation/title word ('Yan Dong', 'Ge Lihe'); a leading title is dropped."""
    found = []
    for m in _CAP_RUN.finditer(sentence):
        tokens = [t.casefold().removesuffix("'s").removesuffix("’s") for t in m.group(0).split()]
        while tokens and (tokens[0] in _NOT_PERSON or tokens[0] in COMMON_WORDS):
            tokens = tokens[1:]
        if not tokens:
            continue
        if person and (not 2 <= len(tokens) <= 3 or any(t in _NOT_PERSON for t in tokens)):
            continue
        found.append((" ".join(tokens), m.start(), m.end()))
    return found


def answer_type(question: str) -> str | None:
    """number | date | person | place | name | None, from the question's wording."""
    for kind, pattern in _TYPE_PATTERNS:
        if pattern.search(question):
            return kind
    return None


class TermAnalyzer:
    """Stemmed content words plus key terms; one English stemmer per instance (not thread-shared)."""

    def __init__(self) -> None:
        self._stemmer = Stemmer.Stemmer("english")

    def content_terms(self, text: str) -> set[str]:
        words = [w.casefold().strip("'’-") for w in _WORD.findall(text)]
        words = [w for w in words if len(w) > 1 and w not in COMMON_WORDS and w not in _QUESTION_FILLER]
        return set(self._stemmer.stemWords(words))

    def terms(self, text: str) -> set[str]:
        keys = {f"#{t}" for t in extract_key_terms(text)}
        return self.content_terms(text) | keys

    def has_type(self, kind: str | None, sentence: str, question: str) -> bool:
        """Does the sentence hold an answer of the asked-for kind that the question does not already state?

        Names count only next to a word of the question (within NEAR_WORDS words): in "Comrade Yan Dong, Vice
        Minister of Commerce, attended" the name answers "which vice minister", while "Xi Jinping's
        important speech" elsewhere in a long sentence does not.
        """
        if kind is None:
            return False
        if kind == "number":
            return bool(extract_numbers(sentence) - extract_numbers(question))
        if kind == "date":
            years = {n for n in extract_numbers(sentence) if len(n) == 4 and n[:2] in ("19", "20")}
            return bool((extract_months(sentence) | years) - extract_months(question) - extract_numbers(question))
        q_words = {w.casefold().removesuffix("'s") for w in _WORD.findall(question)}
        q_terms = self.content_terms(question)
        months = extract_months(sentence)
        for name, start, end in _name_runs(sentence, person=kind == "person"):
            if set(name.split()) <= q_words | months:
                continue
            before = sentence[:start].split()[-NEAR_WORDS:]
            after = sentence[end:].split()[:NEAR_WORDS]
            window = " ".join(before + after)
            if self.content_terms(window) & q_terms:
                return True
        return kind == "name" and bool(re.search(r"[\"“][^\"”]{6,}[\"”]", sentence))


@dataclass(frozen=True)
class Scored:
    index: int  # position in the candidate list
    score: float
    cosine: float
    overlap: float  # IDF-weighted share of question terms present, 0..1
    typed: bool


class EvidenceScorer:
    """Scores candidate sentences against a question in one batched encode call."""

    def __init__(self, embedder: TextEncoder) -> None:
        self.embedder = embedder
        self.analyzer = TermAnalyzer()

    def score(self, question: str, sentences: list[str], ranks: list[float] | None = None) -> list[Scored]:
        """`ranks` in [0, 1] (1 = from the top passage); returns one Scored per sentence, same order."""
        if not sentences:
            return []
        vecs = self.embedder.encode([question, *sentences])
        cosines = vecs[1:] @ vecs[0]
        q_terms = self.analyzer.terms(question)
        s_terms = [self.analyzer.terms(s) for s in sentences]
        n = len(sentences)
        idf = {t: math.log(1.0 + (n + 1) / (1 + sum(t in st for st in s_terms))) for t in q_terms}
        total = sum(idf.values()) or 1.0
        kind = answer_type(question)
        out = []
        for i, sent in enumerate(sentences):
            overlap = sum(idf[t] for t in q_terms if t in s_terms[i]) / total
            typed = self.analyzer.has_type(kind, sent, question)
            rank = ranks[i] if ranks is not None else 0.0
            words = len(_WORD.findall(sent))
            score = (
                float(cosines[i])
                + TERM_WEIGHT * overlap
                + (TYPE_WEIGHT * typed - UNTYPED_PENALTY * (not typed) if kind else 0.0)
                + RANK_WEIGHT * rank
                - SHORT_PENALTY * (words < MIN_WORDS)
            )
            out.append(Scored(i, score, float(cosines[i]), overlap, typed))
        return out
