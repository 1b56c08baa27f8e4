"""The HTTP guard both front ends share (REST and MCP over HTTP); its behaviour over HTTP is tested in
tests/api/test_security.py and tests/mcp_server/. Here: it stands alone, and its two decisions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from starlette.requests import Request

from rag.web.errors import ApiError, error_body
from rag.web.guard import CrossSiteGuard, Guard, RateLimiter, client_address, parse_keys, parse_proxies

ROOT = Path(__file__).resolve().parents[2]


def test_the_guard_imports_no_front_end() -> None:
    # Front ends import the guard, never each other: loading it must not load the API, the CLI or MCP.
    code = ("import sys, rag.web.guard, rag.web.errors; print(sorted(m for m in sys.modules if m == 'api' or "
            "m.startswith(('api.', 'rag.cli', 'rag.mcp_server', 'fastapi'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_rate_limit_says_when_to_retry() -> None:
    limiter = RateLimiter(2)
    limiter.check("k")
    limiter.check("k")
    with pytest.raises(ApiError) as info:
        limiter.check("k")
    assert info.value.status == 429 and info.value.code == "rate_limited"
    assert 1 <= int(info.value.headers["Retry-After"]) <= 61 and "Retry in" in info.value.message
    limiter.check("another caller")  # per caller
    RateLimiter(0).check("k")  # 0 = unlimited


def scope(method: str, **headers: str) -> dict[str, object]:
    return {"type": "http", "method": method, "scheme": "http",
            "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]}


def test_cross_site_writes_are_refused_and_own_origin_passes() -> None:
    guard = CrossSiteGuard(app=None, allowed_origins=["https://front.example"], bound_host="127.0.0.1")  # type: ignore[arg-type]
    assert guard.refused(scope("POST", origin="https://evil.example", host="127.0.0.1:8000")) is not None
    assert guard.refused(scope("POST", origin="http://127.0.0.1:8000", host="127.0.0.1:8000")) is None
    assert guard.refused(scope("POST", origin="https://front.example", host="127.0.0.1:8000")) is None
    assert guard.refused(scope("POST", sec_fetch_site="cross-site")) is not None
    assert guard.refused(scope("POST")) is None  # not a browser: keys and limits still apply
    assert guard.refused(scope("GET", origin="https://evil.example")) is None  # reads are CORS's business


def test_error_shape_and_keys() -> None:
    assert error_body("x", "do y", results=[]) == {"error": {"code": "x", "message": "do y", "results": []}}
    assert parse_keys(" a, ,b ") == ["a", "b"]


def request(peer: str, *headers: tuple[str, str]) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/v1/documents", "client": (peer, 50000),
                    "headers": [(k.lower().encode(), v.encode()) for k, v in headers]})


def test_failed_auth_is_limited_per_address_but_a_valid_key_always_passes() -> None:
    guard = Guard(["a-long-random-key-0123456789"], RateLimiter(0), RateLimiter(2))
    wrong = ("Authorization", "Bearer guess")
    statuses = []
    for _ in range(4):
        with pytest.raises(ApiError) as info:
            guard(request("10.1.1.1", wrong))
        statuses.append(info.value.status)
    assert statuses == [401, 401, 429, 429]
    assert "valid key still passes" in info.value.message
    assert guard(request("10.1.1.1", ("Authorization", "Bearer a-long-random-key-0123456789"))).startswith("key:")
    with pytest.raises(ApiError) as info:
        guard(request("10.1.1.2"))  # another address: its own count (missing key)
    assert info.value.status == 401


def test_client_address_from_x_forwarded_for_only_behind_a_trusted_proxy() -> None:
    proxies = parse_proxies("127.0.0.1, 10.0.0.0/8")
    xff = ["198.51.100.9, 203.0.113.7", "10.0.0.3"]  # a client-sent hop, the client, an inner proxy
    assert client_address("127.0.0.1", xff, proxies) == "203.0.113.7"
    assert client_address("192.0.2.50", xff, proxies) == "192.0.2.50", "from any other peer the header is ignored"
    assert client_address("127.0.0.1", xff, []) == "127.0.0.1", "no trusted proxies: the header is ignored"
    assert client_address("127.0.0.1", [], proxies) == "127.0.0.1"
    assert client_address("127.0.0.1", ["[2001:db8::1]:4711"], proxies) == "2001:db8::1"
    guard = Guard(["a-long-random-key-0123456789"], RateLimiter(0), RateLimiter(1), proxies)
    for forwarded, status in (("203.0.113.7", 401), ("203.0.113.7", 429), ("203.0.113.8", 401)):
        with pytest.raises(ApiError) as info:
            guard(request("127.0.0.1", ("X-Forwarded-For", forwarded)))
        assert info.value.status == status, "each client behind the proxy has its own count"


def test_trusted_proxies_are_checked() -> None:
    from rag.settings import Settings

    with pytest.raises(ValueError, match="not an IP address or network"):
        Settings(trusted_proxies="proxy.local")
    with pytest.raises(ValueError, match="RAG_TRUSTED_PROXIES=127.0.0.1"):
        parse_proxies("10.0.0.0/8, nope")
    assert Settings(trusted_proxies="127.0.0.1,10.0.0.0/8").trusted_proxies
