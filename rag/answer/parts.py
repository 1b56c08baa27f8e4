"""The parts of a two-part question ("Who chaired X, and which minister spoke at Y?").

Composing answers each part from the sentence that states it (`rag.answer.extractive`); the changed-fact
check (`rag.answer.mismatch`) compares a sentence with each part, since it may answer only one of them.
"""

from __future__ import annotations

import re

_PART_SPLIT = re.compile(r",?\s+and\s+(?=(?:who|whom|whose|which|what|when|where|how|why)\b)", re.I)
MIN_PART_WORDS = 3  # "and why?" is no part of its own


def question_parts(question: str) -> list[str]:
    """The parts of a two-part question, each ending with '?'; one part for a plain question."""
    parts = [p.strip(" ,?") for p in _PART_SPLIT.split(question.strip())]
    parts = [p + "?" for p in parts if len(p.split()) >= MIN_PART_WORDS]
    return parts if len(parts) > 1 else [question]
