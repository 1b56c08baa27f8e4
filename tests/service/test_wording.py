"""Refusal notes in plain words; the scores stay with explain."""

from __future__ import annotations

from rag.models import Answer, ExplainTrace
from rag.service.wording import plain_note, plain_words

REASON = "No sentence in the retrieved passages answers the question well enough (evidence score 0.00 < 0.24)."


def test_plain_note_drops_the_scores():
    assert plain_note(REASON) == "No sentence in the retrieved passages answers the question well enough."
    assert plain_note("No passage was retrieved for this question.") == "No passage was retrieved for this question."


def test_plain_words_only_without_explain():
    refused = Answer(question="q", answer="No.", refused=True, mode="extractive", notes=[REASON, "Searched all dates."])
    assert plain_words(refused).notes == [plain_note(REASON), "Searched all dates."]
    assert refused.notes[0] == REASON, "a copy: the original answer keeps its note"
    explained = refused.model_copy(update={"explain": ExplainTrace()})
    assert plain_words(explained).notes[0] == REASON
