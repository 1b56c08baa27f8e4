"""The HTTP guard both front ends share (REST and MCP over HTTP); its behaviour over HTTP is tested in
tests/api/test_security.py and tests/mcp_server/. Here: it stands alone, and its two decisions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rag.web.errors import ApiError, error_body
from rag.web.guard import CrossSiteGuard, RateLimiter, parse_keys

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
