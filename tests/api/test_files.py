"""/v1/files: documents grouped by the file they came from (newest first, searchable, a preview per article);
deleting a file removes all its articles. A real multi-article press-release file from data/sample."""

from __future__ import annotations

from tests.conftest import SAMPLE

MULTI = SAMPLE / "002_679cc89de41e4925.txt"  # six press releases in one file
UPLOAD_NAME = "press-week.txt"


def _files(client, **params) -> dict:
    r = client.get("/v1/files", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_the_sample_is_listed_by_file_without_server_paths(client, api_settings):
    r = client.get("/v1/files")
    body = r.json()
    by_name = {f["name"]: f for f in body["files"]}
    assert {n: len(by_name[n]["articles"]) for n in by_name if n.startswith("00")} == {
        "000_85e430cf6dcbaa50.txt": 6, "001_0615b6b790e0de63.txt": 1, "002_679cc89de41e4925.txt": 6,
        "003_9bdda8ea7fd70666.txt": 1, "004_485b9bbcfeb48667.txt": 1}
    multi = by_name[MULTI.name]
    assert multi["source"] == f"sample/{MULTI.name}" and len(multi["file_id"]) == 16
    assert multi["chunks"] == sum(a["chunks"] for a in multi["articles"]) and multi["indexed_at"]
    assert body["documents"] == client.get("/v1/documents").json()["total"]
    assert str(api_settings.index_dir) not in r.text and str(SAMPLE.parent) not in r.text and '"/' not in r.text
    first = multi["articles"][0]
    text = client.get(f"/v1/documents/{first['doc_id']}").json()["text"]
    assert first["preview"].rstrip("…") in text and text.startswith(first["preview"][:60])
    assert len(first["preview"]) <= 401


def test_upload_a_multi_article_file_then_delete_the_whole_file(client, api_settings):
    before = _files(client)
    r = client.post("/v1/documents", files=[("files", (UPLOAD_NAME, MULTI.read_bytes(), "text/plain"))])
    assert r.status_code == 201, r.text
    ids = sorted(d["doc_id"] for d in r.json()["documents"])
    assert len(ids) == 6
    saved = api_settings.collection_dir / "uploads" / UPLOAD_NAME
    try:
        listed = _files(client)
        newest = listed["files"][0]  # newest ingest first: the upload leads the list
        assert newest["source"] == f"uploads/{UPLOAD_NAME}" and newest["name"] == UPLOAD_NAME
        assert sorted(a["doc_id"] for a in newest["articles"]) == ids, "one file, its six articles under it"
        assert listed["total"] == before["total"] + 1 and listed["documents"] == before["documents"] + 6
        assert newest["indexed_at"] >= before["files"][0]["indexed_at"]
        assert all(a["preview"] and a["title"] for a in newest["articles"])

        found = _files(client, q="PRESS-week")  # any case, the file's name
        assert [f["source"] for f in found["files"]] == [f"uploads/{UPLOAD_NAME}"]
        title_word = newest["articles"][2]["title"].split()[0]
        assert f"uploads/{UPLOAD_NAME}" in [f["source"] for f in _files(client, q=title_word)["files"]]
        assert _files(client, q="no such words anywhere zzzq")["total"] == 0

        gone = client.delete(f"/v1/files/uploads/{UPLOAD_NAME}")
        assert gone.status_code == 200, gone.text
        result = gone.json()
        assert result["source"] == f"uploads/{UPLOAD_NAME}" and sorted(result["deleted"]) == ids
        assert result["documents"] == before["documents"]
        for doc_id in ids:
            assert client.get(f"/v1/documents/{doc_id}").status_code == 404
        assert not saved.exists(), "the uploaded file goes with its last article"
        after = _files(client)
        assert after["total"] == before["total"] and UPLOAD_NAME not in [f["name"] for f in after["files"]]
        assert client.delete(f"/v1/files/uploads/{UPLOAD_NAME}").status_code == 404

        # By file_id too (URL-encoded slashes work as well as plain ones).
        again = client.post("/v1/documents", files=[("files", (UPLOAD_NAME, MULTI.read_bytes(), "text/plain"))])
        assert again.status_code == 201, again.text
        file_id = _files(client)["files"][0]["file_id"]
        assert client.delete(f"/v1/files/{file_id}").json()["deleted"] == ids
    finally:  # never leave the copy behind for the session's other tests
        if saved.exists():
            client.delete(f"/v1/files/uploads%2F{UPLOAD_NAME}")
    assert _files(client)["documents"] == before["documents"]


def test_unknown_file_is_404_with_advice(client):
    for name in ("uploads/never-uploaded.txt", "..%2F..%2Fetc%2Fpasswd", "0123456789abcdef"):
        r = client.delete(f"/v1/files/{name}")
        assert r.status_code == 404, r.text
        error = r.json()["error"]
        assert error["code"] == "file_not_found" and "GET /v1/files" in error["message"], error


def test_bad_listing_parameters(client):
    assert client.get("/v1/files", params={"q": "x" * 201}).json()["error"]["code"] == "invalid_request"
    assert client.get("/v1/files", params={"limit": 0}).status_code == 422
    page = _files(client, offset=1, limit=2)
    assert page["offset"] == 1 and len(page["files"]) == 2
