"""CitationVerifier: a sentence may cite a span only if the span backs it.

Two checks, both cheap and both needed:
- every key term of the sentence (number, date, name; see `rag.cite.terms`) occurs in the span,
  which catches the typical hallucination of a changed figure or a wrong person;
- the sentence is close in meaning to the span (embedding cosine >= min_similarity), which
  catches a citation attached to an unrelated passage that happens to share a number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from rag.cite.terms import extract_key_terms, missing_terms, strip_markers

__all__ = ["CitationVerifier", "Verdict", "extract_key_terms"]


# What quoting a clause as a sentence may change (rag.answer.extractive._display): surrounding space,
# trailing clause punctuation, an added full stop, the first letter's case. Texts equal up to these
# are the same text: they score similarity 1.0 without being embedded. A Chinese clause is quoted with "。"
# added and "，；：、" dropped.
_QUOTE_TRAILING = " ,;:—–-.。，；：、"


def same_text(a: str, b: str) -> bool:
    """True when `a` and `b` differ only in what quoting a clause as a sentence changes."""
    def norm(t: str) -> str:
        t = t.strip().rstrip(_QUOTE_TRAILING)
        return t[:1].lower() + t[1:]
    return norm(a) == norm(b)


class TextEncoder(Protocol):
    def encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray: ...


@dataclass(frozen=True)
class Verdict:
    ok: bool
    similarity: float
    missing_terms: list[str] = field(default_factory=list)


class CitationVerifier:
    """check() one pair, check_many() a batch (one encode call for all distinct texts)."""

    def __init__(self, embedder: TextEncoder, min_similarity: float = 0.45) -> None:
        if not 0.0 <= min_similarity <= 1.0:
            raise ValueError(f"min_similarity must be in [0, 1], got {min_similarity}; use e.g. 0.45")
        self.embedder = embedder
        self.min_similarity = min_similarity

    def check(self, sentence: str, span: str) -> Verdict:
        return self.check_many([(sentence, span)])[0]

    def check_many(self, pairs: list[tuple[str, str]]) -> list[Verdict]:
        if not pairs:
            return []
        cleaned = [(strip_markers(s), sp) for s, sp in pairs]
        sims = self.similarities(cleaned)
        verdicts = []
        for (sentence, span), sim in zip(cleaned, sims):
            missing = missing_terms(sentence, span) if span.strip() else sorted(extract_key_terms(sentence))
            ok = bool(span.strip()) and not missing and sim >= self.min_similarity
            verdicts.append(Verdict(ok=ok, similarity=sim, missing_terms=missing))
        return verdicts

    def similarities(self, pairs: list[tuple[str, str]]) -> list[float]:
        """Cosine of each (a, b); the same text (`same_text`: a verbatim quote) scores 1.0 without being embedded."""
        same = [same_text(a, b) for a, b in pairs]
        texts = sorted({t for (a, b), eq in zip(pairs, same) if not eq for t in (a, b)})
        index = {t: i for i, t in enumerate(texts)}
        vecs = self.embedder.encode(texts) if texts else np.zeros((0, 1), dtype=np.float32)
        out = []
        for (a, b), eq in zip(pairs, same):
            if eq:
                out.append(1.0)
            else:
                out.append(float(np.dot(vecs[index[a]], vecs[index[b]])))
        return out
