"""A refusal's note in plain words; the scores behind it only with `explain`."""

from __future__ import annotations

MARS = "What is the boiling point of liquid nitrogen on Mars?"


def test_refusal_note_in_plain_words_scores_only_with_explain(client):
    plain = client.post("/v1/ask", json={"question": MARS}).json()
    assert plain["refused"] and plain["notes"]
    assert not any("score" in n or "<" in n for n in plain["notes"]), plain["notes"]
    explained = client.post("/v1/ask", json={"question": MARS, "explain": True}).json()
    refusal = explained["explain"]["refusal"]
    assert refusal["refused"] and refusal["best_score"] is not None and refusal["threshold"] is not None
    assert any(f"{refusal['threshold']:.2f}" in n for n in explained["notes"]), "with explain the note keeps its scores"
