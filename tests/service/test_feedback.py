"""'Not helpful' marks are counted with the refusals, per day and reason; their question text only on opt-in."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from rag.models import Answer
from rag.service.refusals import Feedback, RefusalLog

NOW = datetime(2024, 5, 10, 12, tzinfo=timezone.utc)


def test_feedback_counted_per_day_and_reason_without_text(tmp_path):
    log = RefusalLog(tmp_path / "c", keep_questions=False, retention_days=7)
    log.record(Answer(question="Opening hours?", answer="No.", refused=True, mode="extractive"), NOW)
    log.record_feedback(Feedback(reason="should_have_answered", refused=True, question="Opening hours?"), NOW)
    log.record_feedback(Feedback(reason="wrong", question="Who chaired the meeting?"), NOW)
    log.record_feedback(Feedback(reason="wrong"), NOW - timedelta(days=1))
    st = log.stats(days=30, now=NOW)
    assert (st.asked, st.refused, st.not_helpful, st.not_helpful_refused) == (1, 1, 3, 1)
    assert st.feedback_reasons == {"should_have_answered": 1, "wrong": 2}
    assert [(d.day, d.asked, d.not_helpful) for d in st.days] == [("2024-05-10", 1, 2), ("2024-05-09", 0, 1)]
    assert st.feedback_questions_logged is False and st.feedback_questions == []
    log.close()
    assert b"chaired" not in log.path.read_bytes() and b"Opening" not in log.path.read_bytes()


def test_feedback_question_text_kept_only_when_opted_in_and_expires(tmp_path):
    log = RefusalLog(tmp_path / "c", keep_questions=False, retention_days=7, keep_feedback_questions=True)
    log.record_feedback(Feedback(reason="incomplete", question="Old question?"), NOW - timedelta(days=8))
    log.record_feedback(Feedback(reason="bad_citation", question="Where is the museum store?"), NOW)
    st = log.stats(days=30, now=NOW)
    assert [(q.reason, q.question) for q in st.feedback_questions] == [("bad_citation", "Where is the museum store?")]
    assert st.not_helpful == 2, "the counts stay when the text expires"
    log.close()
    off = RefusalLog(tmp_path / "c", keep_questions=False, retention_days=7)  # opted out again: the text goes
    assert off.stats(days=30, now=NOW).feedback_questions == []
    off.close()
    assert b"museum" not in off.path.read_bytes()


def test_feedback_reason_must_be_known():
    with pytest.raises(ValidationError, match="should_have_answered"):
        Feedback(reason="meh")
