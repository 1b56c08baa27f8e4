"""POST /v1/feedback: a reader's 'not helpful' mark, counted in GET /v1/stats/refusals without question text."""

from __future__ import annotations


def test_feedback_is_counted_without_text(client):
    before = client.get("/v1/stats/refusals").json()
    r = client.post("/v1/feedback", json={"reason": "should_have_answered", "refused": True,
                                          "question": "Who rents out the glass cabins?"})
    assert r.status_code == 202, r.text
    assert r.json() == {"recorded": True, "question_kept": False}
    after = client.get("/v1/stats/refusals").json()
    assert after["not_helpful"] == before["not_helpful"] + 1
    assert after["not_helpful_refused"] == before["not_helpful_refused"] + 1
    assert after["feedback_reasons"]["should_have_answered"] >= 1
    assert after["days"][0]["not_helpful"] >= 1
    assert after["feedback_questions_logged"] is False and after["feedback_questions"] == []


def test_feedback_bad_reason_says_which_are_allowed(client):
    r = client.post("/v1/feedback", json={"reason": "meh"})
    assert r.status_code == 422
    assert "should_have_answered" in r.text
