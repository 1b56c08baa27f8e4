"""The two ends of every question, light enough for front ends that never answer (`rag index` imports the
service without the answer path: evidence model, jieba, the reader)."""

from __future__ import annotations

from collections.abc import Iterable

from rag.models import Answer, Progress
from rag.service.errors import InvalidRequest


def final_answer(items: Iterable[str | Progress | Answer]) -> Answer:
    """The Answer a stream ends with (every stream of the path ends with one); what came before is dropped."""
    *_, final = items
    assert isinstance(final, Answer), "the path always ends with an Answer"
    return final


def check_question(question: str, max_chars: int) -> str:
    """Step 1: the question stripped, or the caller's error (a 4xx over HTTP)."""
    question = question.strip()
    if not question:
        raise InvalidRequest("The question is empty; ask something, e.g. \"Who chaired the meeting?\"")
    if len(question) > max_chars:
        raise InvalidRequest(f"The question has {len(question)} characters; the limit is {max_chars}. Shorten it.",
                             code="question_too_long")
    return question
