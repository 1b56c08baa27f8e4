"""GET /v1/search: ranked passages with scores and metadata; filters; bad input."""

from __future__ import annotations

import pytest


def test_search_ranks_passages_with_metadata(client):
    r = client.get("/v1/search", params={"q": "Arc'teryx Museum store", "k": 4})
    assert r.status_code == 200, r.text
    body = r.json()
    hits = body["hits"]
    assert 0 < len(hits) <= 4
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)
    top = hits[0]["passage"]
    assert "Arc'teryx" in top["text"]
    for key in ("doc_id", "chunk_id", "title", "source", "start", "end"):
        assert key in top
    doc = client.get(f"/v1/documents/{top['doc_id']}").json()
    assert doc["text"][top["start"] : top["end"]] == top["text"]


def test_search_date_filter(client):
    all_hits = client.get("/v1/search", params={"q": "Shanghai", "k": 20}).json()["hits"]
    dates = sorted({h["passage"]["date"][:10] for h in all_hits if h["passage"]["date"]})
    assert len(dates) >= 2, "the sample spans several days"
    since = dates[-1]
    hits = client.get("/v1/search", params={"q": "Shanghai", "k": 20, "since": since}).json()["hits"]
    assert hits and all(h["passage"]["date"][:10] >= since for h in hits)


@pytest.mark.parametrize(
    "params",
    [{}, {"q": ""}, {"q": "x", "k": 0}, {"q": "x", "k": 1000}, {"q": "x", "k": "many"},
     {"q": "x", "since": "yesterday"}, {"q": "x", "since": "2024-05-02", "until": "2024-05-01"}],
)
def test_bad_search_is_422(client, params):
    r = client.get("/v1/search", params=params)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"]
