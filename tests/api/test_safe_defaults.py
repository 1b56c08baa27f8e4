"""Safe defaults for a server on the user's own machine: cross-site writes refused, failed
authentication limited, collection names checked, no server paths in replies, JSON for odd URLs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from rag.service.display import SourceDisplay
from api.testing import live_server
from rag.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
QUESTION = {"question": "Who chaired the Yangpu quarterly work meeting?"}


def _count(url: str) -> int:
    return httpx.get(f"{url}/v1/documents", timeout=30).json()["total"]


def test_cross_site_upload_is_refused_and_changes_nothing(server_url):
    before = _count(server_url)
    files = {"files": ("evil.txt", b"Planted by another web site. " * 20, "text/plain")}
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"},
                    {"Sec-Fetch-Site": "cross-site"}, {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}):
        r = httpx.post(f"{server_url}/v1/documents", files=files, headers=headers, timeout=30)
        assert r.status_code == 403, (headers, r.text)
        assert r.json()["error"]["code"] == "cross_site_refused"
        assert "RAG_CORS_ORIGINS" in r.json()["error"]["message"]
    assert httpx.request("DELETE", f"{server_url}/v1/documents/{'0' * 64}", headers={"Origin": "http://evil.example"},
                         timeout=30).status_code == 403
    assert _count(server_url) == before


def test_dns_rebinding_host_is_not_the_servers_own_origin(server_url):
    port = urlsplit(server_url).port
    headers = {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"}
    r = httpx.post(f"{server_url}/v1/ask", json=QUESTION, headers=headers, timeout=60)
    assert r.status_code == 403


def test_same_origin_and_non_browser_clients_still_work(server_url):
    # The chat page: same origin, Sec-Fetch-Site same-origin. curl / SDKs: neither header.
    page = {"Origin": server_url, "Sec-Fetch-Site": "same-origin"}
    assert httpx.post(f"{server_url}/v1/ask", json=QUESTION, headers=page, timeout=60).status_code == 200
    assert httpx.post(f"{server_url}/v1/ask", json=QUESTION, timeout=60).status_code == 200
    # Reads are not writes: a cross-site GET passes the guard (CORS keeps its body from the other site).
    assert httpx.get(f"{server_url}/v1/documents", headers={"Origin": "http://evil.example"}, timeout=30).status_code == 200


def test_configured_cors_origin_may_write(api_settings, embedder):
    settings = api_settings.model_copy(update={"cors_origins": "https://chat.example.org"})
    with TestClient(create_app(settings, embedder=embedder)) as c:
        ok = c.post("/v1/ask", json=QUESTION, headers={"Origin": "https://chat.example.org"})
        assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "https://chat.example.org"
        assert c.post("/v1/ask", json=QUESTION, headers={"Origin": "https://evil.example.com"}).status_code == 403


def test_failed_authentication_is_rate_limited_per_address(api_settings, embedder):
    settings = api_settings.model_copy(update={"api_keys": "alpha", "auth_failures_per_minute": 3})
    with TestClient(create_app(settings, embedder=embedder)) as c:
        wrong = {"Authorization": "Bearer guess"}
        assert [c.get("/v1/documents", headers=wrong).status_code for _ in range(3)] == [401, 401, 401]
        blocked = c.get("/v1/documents", headers=wrong)
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
        assert "failed authentication" in blocked.json()["error"]["message"]
        # The right key is never locked out (behind a proxy everyone shares one address); health stays open.
        assert c.get("/v1/documents", headers={"Authorization": "Bearer alpha"}).status_code == 200
        assert c.get("/v1/documents").status_code == 429, "a missing key counts as a failure too"
        assert c.get("/healthz").status_code == 200


def test_behind_a_trusted_proxy_each_client_has_its_own_failure_count(api_settings, embedder):
    settings = api_settings.model_copy(update={"api_keys": "alpha", "auth_failures_per_minute": 1,
                                               "trusted_proxies": "127.0.0.1"})
    with live_server(create_app(settings, embedder=embedder, load_on_startup=False)) as url:
        one = {"X-Forwarded-For": "203.0.113.7"}
        assert [httpx.get(f"{url}/v1/documents", headers=one, timeout=30).status_code for _ in range(2)] == [401, 429]
        assert httpx.get(f"{url}/v1/documents", headers={"X-Forwarded-For": "203.0.113.8"}, timeout=30).status_code == 401
        with_key = {**one, "Authorization": "Bearer alpha"}
        assert httpx.get(f"{url}/v1/documents", headers=with_key, timeout=30).status_code == 200


@pytest.mark.parametrize("name", ["../x", "/tmp/x", "a/b", ".hidden", "..", "", "a" * 65, "x\\y", "a b"])
def test_collection_names_are_checked(name):
    with pytest.raises(ValueError, match="collection name"):
        Settings(collection=name)


def test_cli_refuses_a_collection_outside_the_index_dir(tmp_path):
    doc = tmp_path / "doc.txt"
    doc.write_text("A short document about the Yangpu district and its quarterly meeting. " * 3)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    run = subprocess.run([sys.executable, "-m", "rag", "index", str(doc), "-c", "../escaped",
                          "--index-dir", str(tmp_path / "index")], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 1 and "collection name '../escaped' is not allowed" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "escaped").exists()


def test_replies_show_no_server_paths(client, api_settings, tmp_path_factory):
    secret = str(Path(api_settings.index_dir).resolve())
    corpus = str(tmp_path_factory.getbasetemp())  # the indexed sample folder lives under it too
    sample_root = None
    docs = client.get("/v1/documents").json()["documents"]
    for doc in docs:
        assert not doc["source"].startswith("/"), doc["source"]
        sample_root = doc["source"].split("/")[0]
    assert sample_root == "sample"  # relative to the indexed folder, which is named first
    replies = [
        client.get("/v1/documents").text,
        client.get(f"/v1/documents/{docs[0]['doc_id']}").text,
        client.get("/v1/search", params={"q": "Yangpu meeting"}).text,
        client.post("/v1/ask", json=QUESTION).text,
        client.post("/v1/ask", json={**QUESTION, "stream": True}).text,
        client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTION["question"]}]}).text,
        client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTION["question"]}],
                                                  "stream": True}).text,
    ]
    upload = client.post("/v1/documents", files={"files": ("notes.txt", b"Plain words about a meeting held in Yangpu. " * 5,
                                                           "text/plain")})
    assert upload.status_code == 201, upload.text
    assert upload.json()["documents"][0]["source"] == "uploads/notes.txt"
    bad = client.post("/v1/documents", files={"files": ("broken.pdf", b"%PDF-1.7 not really a pdf", "application/pdf")})
    assert bad.status_code == 422
    replies += [upload.text, bad.text]
    for reply in replies:
        assert secret not in reply and corpus not in reply and str(ROOT) not in reply
    client.delete(f"/v1/documents/{upload.json()['documents'][0]['doc_id']}")


def test_display_names(tmp_path):
    uploads = tmp_path / "index" / "c" / "uploads"
    root = tmp_path / "docs" / "press"
    show = SourceDisplay([str(root / "a.txt"), str(root / "2024" / "b.txt"), str(uploads / "u.txt")], uploads)
    assert show(str(root / "2024" / "b.txt")) == "press/2024/b.txt"
    assert show(str(uploads / "u.txt")) == "uploads/u.txt"
    assert show(str(tmp_path / "elsewhere" / "z.txt")) == "elsewhere/z.txt"
    assert show.text(f"cannot read {uploads}/u.txt") == "cannot read uploads/u.txt"
    single = SourceDisplay([str(root / "a.txt")], uploads)
    assert single(str(root / "a.txt")) == "press/a.txt"


def raw_get(url: str, target: str) -> tuple[int, str, str]:
    """(status, content-type, body) of a GET sent over a plain socket (httpx refuses URLs over 64 KiB)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    ctype = next((line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("content-type:")), "")
    return int(lines[0].split()[1]), ctype, body.decode("utf-8", "replace")


def test_long_query_string_gets_json_414(server_url):
    for size in (20_000, 200_000, 900_000):
        status, ctype, body = raw_get(server_url, "/v1/search?q=" + "a" * size)
        assert status == 414 and ctype == "application/json", (size, status, body[:200])
        assert json.loads(body)["error"]["code"] == "uri_too_long"


def test_trailing_slash_is_json_not_a_redirect(client):
    r = client.delete("/v1/documents/", follow_redirects=False)
    assert r.status_code == 404 and "document id is missing" in r.json()["error"]["message"]
    r = client.get("/v1/documents/", follow_redirects=False)
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/json")
