"""/v1/documents: list, read, upload (JSON text and multipart files), delete; bad input."""

from __future__ import annotations

import pytest

NOTE = ("Qingpu District opened the Zhujiajiao Lantern Library on 3 March 2024. "
        "The library holds 48,000 books about water towns and is open every day until 21:00.")


def test_list_and_get(client):
    body = client.get("/v1/documents").json()
    assert body["total"] >= 15 and body["documents"]
    d = body["documents"][0]
    doc = client.get(f"/v1/documents/{d['doc_id']}").json()
    assert doc["doc_id"] == d["doc_id"] and doc["title"] == d["title"] and len(doc["text"]) == d["chars"]
    page = client.get("/v1/documents", params={"offset": 1, "limit": 2}).json()
    assert [x["doc_id"] for x in page["documents"]] == [x["doc_id"] for x in body["documents"][1:3]]


@pytest.mark.parametrize("doc_id", ["abc", "0" * 64, "../../etc/passwd"])
def test_unknown_document_is_404(client, doc_id):
    r = client.get(f"/v1/documents/{doc_id}")
    assert r.status_code == 404
    assert r.json()["error"]["code"] in ("document_not_found", "not_found")


def test_upload_json_text_then_ask_then_delete(client, api_settings):
    r = client.post("/v1/documents", json={"title": "Lantern Library opens", "text": NOTE, "date": "2024-03-03"})
    assert r.status_code == 201, r.text
    up = r.json()
    assert up["documents_added"] == 1 and len(up["documents"]) == 1 and up["files"]
    saved = api_settings.collection_dir / "uploads" / up["files"][0]
    assert saved.exists(), "uploads persist under <collection>/uploads/"
    doc_id = up["documents"][0]["doc_id"]
    assert client.get(f"/v1/documents/{doc_id}").json()["date"].startswith("2024-03-03")

    a = client.post("/v1/ask", json={"question": "How many books does the Zhujiajiao Lantern Library hold?"}).json()
    assert not a["refused"]
    assert any(c["doc_id"] == doc_id for c in a["citations"]), "the answer cites the uploaded document"
    assert "48,000" in a["answer"], a["answer"]  # the sentence with the count, not the one repeating the names

    again = client.post("/v1/documents", json={"title": "Lantern Library opens", "text": NOTE, "date": "2024-03-03"})
    assert again.status_code == 201 and again.json()["documents_added"] == 0  # same text: nothing to do

    gone = client.delete(f"/v1/documents/{doc_id}")
    assert gone.status_code == 200 and gone.json()["deleted"] == doc_id
    assert client.get(f"/v1/documents/{doc_id}").status_code == 404
    assert not saved.exists(), "an upload whose documents are all deleted is removed"
    assert client.delete(f"/v1/documents/{doc_id}").status_code == 404


def test_upload_multipart_files(client):
    files = [
        ("files", ("ferry notes.md", b"# Ferry timetable\n\nThe Pujiang ferry to Dongchang Road runs every 12 minutes.\n", "text/markdown")),
        ("files", ("kiosk.txt", b"The Bund kiosk sells paper maps of the Yuyuan Garden for 15 yuan.\n", "text/plain")),
    ]
    r = client.post("/v1/documents", files=files)
    assert r.status_code == 201, r.text
    up = r.json()
    assert sorted(up["files"]) == ["ferry_notes.md", "kiosk.txt"] and up["documents_added"] == 2
    hits = client.get("/v1/search", params={"q": "Pujiang ferry Dongchang Road", "k": 1}).json()["hits"]
    assert "every 12 minutes" in hits[0]["passage"]["text"]
    for d in up["documents"]:
        assert client.delete(f"/v1/documents/{d['doc_id']}").status_code == 200


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"files": [("files", ("evil.exe", b"MZ...", "application/octet-stream"))]}, 415, "unsupported_file_type"),
        ({"files": [("files", ("empty.txt", b"   \n", "text/plain"))]}, 422, "empty_file"),
        ({"files": [("other", ("a.txt", b"text", "text/plain"))]}, 422, "no_files"),
        ({"json": {"title": "no text"}}, 422, "invalid_request"),
        ({"json": {"text": "ok text", "date": "3 March"}}, 422, "invalid_request"),
        ({"json": {"text": 12}}, 422, "invalid_request"),
        ({"content": b"plain body", "headers": {"content-type": "text/plain"}}, 415, "unsupported_media_type"),
    ],
)
def test_bad_uploads(client, api_settings, kwargs, status, code):
    before = client.get("/v1/documents").json()["total"]
    r = client.post("/v1/documents", **kwargs)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert client.get("/v1/documents").json()["total"] == before


def test_unreadable_pdf_is_rejected_and_not_kept(client, api_settings):
    r = client.post("/v1/documents", files=[("files", ("broken.pdf", b"%PDF-1.4 this is not a pdf", "application/pdf"))])
    assert r.status_code == 422 and r.json()["error"]["code"] == "nothing_indexed"
    assert not (api_settings.collection_dir / "uploads" / "broken.pdf").exists()


def test_upload_too_large_is_413(client, api_settings):
    big = b"a" * (api_settings.max_body_bytes + 1)
    r = client.post("/v1/documents", files=[("files", ("big.txt", big, "text/plain"))])
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"


def test_mixed_upload_indexes_the_good_files_and_reports_each(client):
    files = [
        ("files", ("tram.txt", b"The Zhangjiang tram line T1 has 15 stops and opened in 2010.\n", "text/plain")),
        ("files", ("logo.png", b"\x89PNG\r\n\x1a\n....", "image/png")),
    ]
    r = client.post("/v1/documents", files=files)
    assert r.status_code == 201, r.text
    results = {x["name"]: x for x in r.json()["results"]}
    assert results["tram.txt"]["status"] == "indexed" and results["tram.txt"]["documents"]
    assert results["logo.png"]["status"] == "skipped" and results["logo.png"]["code"] == "unsupported_file_type"
    assert "logo.png" in r.json()["problems"][0]
    for d in r.json()["documents"]:
        assert client.delete(f"/v1/documents/{d['doc_id']}").status_code == 200


def test_refusal_stats_route(client):
    client.post("/v1/ask", json={"question": "What is the boiling point of liquid nitrogen on Mars?"})
    body = client.get("/v1/stats/refusals", params={"days": 7}).json()
    assert body["refused"] >= 1 and body["asked"] >= body["refused"] and body["days"]
    assert body["questions_logged"] is False and body["questions"] == []
    assert client.get("/v1/stats/refusals", params={"days": 0}).status_code == 422
