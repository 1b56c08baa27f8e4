"""Refusal notes in plain words for every front end; the scores behind them only when `explain` was asked.

rag/answer/flow.py words a score refusal as "No sentence in the retrieved passages answers the question
well enough (evidence score 0.00 < 0.24)." A reader learns nothing from the two numbers, so an answer
without an explain trace leaves with the parenthesis taken out. With `explain` (the CLI's --explain,
the API's `explain` field, the chat page's "Show scores" setting) the note keeps the numbers and the
explain trace carries the whole refusal (best score, threshold, margin). The structured fields
(`diagnostics.refusal_reason`, `diagnostics.support`) are left as they are: they are for programs.
"""

from __future__ import annotations

import re

from rag.models import Answer

# "(evidence score 0.00 < 0.24)", "(score -0.12 < 0.24)", "(evidence score 0.10 below the threshold 0.24)"
_SCORES = re.compile(r"\s*\((?:evidence )?score [-+]?\d[\d.]*\s*(?:<|below(?: the threshold)?)\s*[-+]?\d[\d.]*\)")


def plain_note(note: str) -> str:
    """`note` without the score comparison a refusal reason carries."""
    return _SCORES.sub("", note)


def plain_words(answer: Answer) -> Answer:
    """`answer` with its notes in plain words unless it carries an explain trace; a copy only when changed."""
    if answer.explain is not None or not answer.refused:
        return answer
    notes = [plain_note(n) for n in answer.notes]
    return answer if notes == answer.notes else answer.model_copy(update={"notes": notes})
