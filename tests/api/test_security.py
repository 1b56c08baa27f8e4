"""API keys, rate limit and CORS."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app


def test_api_keys_required_except_health(api_settings, embedder):
    settings = api_settings.model_copy(update={"api_keys": "alpha, beta"})
    with TestClient(create_app(settings, embedder=embedder)) as c:
        assert c.get("/healthz").status_code == 200 and c.get("/readyz").status_code == 200
        assert c.get("/").status_code == 200  # the page holds no data; it asks for the key
        r = c.get("/v1/documents")
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        assert r.headers["www-authenticate"] == "Bearer"
        r = c.get("/v1/documents", headers={"Authorization": "Bearer gamma"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
        assert c.get("/v1/documents", headers={"Authorization": "Basic alpha"}).status_code == 401
        for key in ("alpha", "beta"):
            assert c.get("/v1/documents", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        r = c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]})
        assert r.status_code == 401


def test_rate_limit_per_key(api_settings, embedder):
    settings = api_settings.model_copy(update={"api_keys": "alpha,beta", "rate_limit_per_minute": 3})
    with TestClient(create_app(settings, embedder=embedder)) as c:
        a = {"Authorization": "Bearer alpha"}
        assert [c.get("/v1/documents", headers=a).status_code for _ in range(3)] == [200, 200, 200]
        r = c.get("/v1/documents", headers=a)
        assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
        assert int(r.headers["retry-after"]) >= 1
        assert c.get("/v1/documents", headers={"Authorization": "Bearer beta"}).status_code == 200
        assert c.get("/healthz").status_code == 200  # health is never limited


def test_cors_off_by_default_and_on_when_configured(api_settings, embedder):
    origin = {"Origin": "https://chat.example.org"}
    with TestClient(create_app(api_settings, embedder=embedder)) as c:
        assert "access-control-allow-origin" not in c.get("/healthz", headers=origin).headers
    settings = api_settings.model_copy(update={"cors_origins": "https://chat.example.org"})
    with TestClient(create_app(settings, embedder=embedder)) as c:
        r = c.get("/healthz", headers=origin)
        assert r.headers["access-control-allow-origin"] == "https://chat.example.org"
        other = c.get("/healthz", headers={"Origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in other.headers
