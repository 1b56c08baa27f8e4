"""Several collections served by one process: `collection` in a request's body (or the query on GET, DELETE and
uploads), the default RAG_COLLECTION, an unknown name refused with the list, `-c` serving one, a collection indexed
while the server runs, and the OpenAI client's extra_body."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.testing import live_server
from rag.pipeline.indexer import index_paths

QUESTION = "How many glass cabins does the Pearl Ring ferris wheel carry?"


@pytest.fixture(scope="module")
def multi(two_collections, embedder) -> Iterator[TestClient]:
    with TestClient(create_app(two_collections, embedder=embedder)) as c:
        yield c


def test_the_collections_are_listed_with_the_default_first(multi):
    body = multi.get("/v1/collections").json()
    assert body["default"] == "sample"
    assert [(c["name"], c["default"]) for c in body["collections"]] == [("sample", True), ("notes", False)]
    assert [c["documents"] for c in body["collections"]] == [15, 1]


def test_a_question_goes_to_the_collection_it_names(multi):
    answer = multi.post("/v1/ask", json={"question": QUESTION, "collection": "notes"}).json()
    assert not answer["refused"] and "48 glass cabins" in answer["answer"], answer["answer"]
    assert {c["source"] for c in answer["citations"]} == {"notes/pearl-ring.txt"}
    assert multi.post("/v1/ask", json={"question": QUESTION}).json()["refused"], "the default (sample) has no such wheel"
    streamed = multi.post("/v1/ask", json={"question": QUESTION, "collection": "notes", "stream": True})
    assert streamed.status_code == 200 and "48 glass cabins" in streamed.text

    doc_id = answer["citations"][0]["doc_id"]
    assert multi.get(f"/v1/documents/{doc_id}", params={"collection": "notes"}).json()["title"] == "Pearl Ring ferris wheel"
    assert multi.get(f"/v1/documents/{doc_id}").status_code == 404
    hits = multi.get("/v1/search", params={"q": "Pearl Ring ferris wheel", "collection": "notes"}).json()["hits"]
    assert hits and all(h["passage"]["source"] == "notes/pearl-ring.txt" for h in hits)
    assert multi.get("/v1/documents", params={"collection": "notes"}).json()["total"] == 1
    assert [f["source"] for f in multi.get("/v1/files", params={"collection": "notes"}).json()["files"]] == [
        "notes/pearl-ring.txt"]
    ready = multi.get("/readyz", params={"collection": "notes"}).json()
    assert ready["collection"] == "notes" and ready["documents"] == 1
    assert multi.get("/readyz").json()["collection"] == "sample"
    stats = multi.get("/v1/stats/refusals", params={"collection": "notes", "days": 1}).json()
    assert stats["asked"] >= 2 and stats["refused"] == 0, "each collection counts its own questions"


def test_uploads_feedback_and_deletes_go_to_the_named_collection(multi):
    up = multi.post("/v1/documents", data={"collection": "notes"},
                    files=[("files", ("kiosk.txt", b"The Bund kiosk sells paper maps of the Yuyuan Garden for 15 yuan.\n",
                                      "text/plain"))])
    assert up.status_code == 201, up.text
    assert multi.get("/v1/documents", params={"collection": "notes"}).json()["total"] == 2
    assert "uploads/kiosk.txt" not in [f["source"] for f in multi.get("/v1/files").json()["files"]]
    gone = multi.delete("/v1/files/uploads/kiosk.txt", params={"collection": "notes"})
    assert gone.status_code == 200 and len(gone.json()["deleted"]) == 1

    text = multi.post("/v1/documents", params={"collection": "notes"}, json={"text": "The ferry pier has 3 gates.",
                                                                              "title": "Pier"})
    assert text.status_code == 201 and multi.get("/v1/documents", params={"collection": "notes"}).json()["total"] == 2
    doc_id = text.json()["documents"][0]["doc_id"]
    assert multi.delete(f"/v1/documents/{doc_id}").status_code == 404, "not in the default collection"
    assert multi.delete(f"/v1/documents/{doc_id}", params={"collection": "notes"}).status_code == 200
    json_body = multi.post("/v1/documents", json={"text": "The ferry pier has 4 gates.", "collection": "notes"})
    assert json_body.status_code == 201
    assert multi.delete(f"/v1/documents/{json_body.json()['documents'][0]['doc_id']}",
                        params={"collection": "notes"}).status_code == 200

    before = multi.get("/v1/stats/refusals", params={"collection": "notes", "days": 1}).json()["not_helpful"]
    mark = multi.post("/v1/feedback", json={"reason": "incomplete", "collection": "notes"})
    assert mark.status_code == 202
    assert multi.get("/v1/stats/refusals", params={"collection": "notes", "days": 1}).json()["not_helpful"] == before + 1


@pytest.mark.parametrize(("call", "hint"), [
    (lambda c: c.post("/v1/ask", json={"question": QUESTION, "collection": "press"}),
     "rag index PATH --collection press"),
    (lambda c: c.get("/v1/documents", params={"collection": "../sample"}), "names are 1-64 letters"),
    (lambda c: c.get("/v1/files", params={"collection": ".encoders"}), "names are 1-64 letters"),
    (lambda c: c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTION}],
                                                    "collection": "sample.rebuild"}), "Collections: sample, notes."),
])
def test_an_unknown_collection_is_404_with_the_list(multi, two_collections, call, hint):
    r = call(multi)
    assert r.status_code == 404, r.text
    error = r.json()["error"]
    assert error["code"] == "collection_not_found" and "Collections: sample, notes." in error["message"], error
    assert hint in error["message"] and str(two_collections.index_dir) not in r.text


def test_dash_c_serves_one_collection(two_collections, embedder):
    with TestClient(create_app(two_collections, embedder=embedder, single=True)) as c:
        assert [x["name"] for x in c.get("/v1/collections").json()["collections"]] == ["sample"]
        r = c.post("/v1/ask", json={"question": QUESTION, "collection": "notes"})
        assert r.status_code == 404 and "serves only its -c collection" in r.json()["error"]["message"]
        assert c.post("/v1/ask", json={"question": QUESTION, "collection": "sample"}).status_code == 200


def test_a_collection_indexed_while_serving_is_served_at_once(multi, two_collections, embedder, tmp_path):
    src = tmp_path / "late"
    src.mkdir()
    (src / "tram.txt").write_text("The Zhangjiang tram line T1 has 15 stops and opened in 2010.\n")
    late = two_collections.model_copy(update={"collection": "late"})
    index_paths([src], late, embedder=embedder)
    try:
        assert "late" in [x["name"] for x in multi.get("/v1/collections").json()["collections"]]
        answer = multi.post("/v1/ask", json={"question": "How many stops does tram line T1 have?", "collection": "late"})
        assert "15 stops" in answer.json()["answer"]
    finally:
        shutil.rmtree(late.collection_dir)


def test_openai_client_picks_the_collection_with_extra_body(two_collections, embedder):
    from openai import OpenAI  # noqa: PLC0415

    with live_server(create_app(two_collections, embedder=embedder)) as url:
        client = OpenAI(base_url=f"{url}/v1", api_key="unused")
        messages = [{"role": "user", "content": QUESTION}]
        reply = client.chat.completions.create(model="rag", messages=messages, extra_body={"collection": "notes"})
        assert "48 glass cabins" in reply.choices[0].message.content
        assert "notes/pearl-ring.txt" in reply.choices[0].message.content
        assert client.chat.completions.create(model="rag", messages=messages).choices[0].message.refusal
        chunks = client.chat.completions.create(model="rag", messages=messages, stream=True,
                                                extra_body={"collection": "notes"})
        assert "48 glass cabins" in "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
