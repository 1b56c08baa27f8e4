"""The HTTP guard of both front ends (the REST API and MCP over HTTP): API keys, per-key rate limiting,
failed-auth limiting, the cross-site write guard and the body and URL limits.

Auth: when Settings.api_keys is set, every /v1 route (the routers `Guard` is attached to) needs
`Authorization: Bearer <key>`; health checks, the static chat page and the API docs stay open
(they hold no data; the page asks for the key). Rate limit: a sliding one-minute window per key
(per client address without auth).
Failed authentication: at most Settings.auth_failures_per_minute wrong or missing keys per client
address; past that the address's next wrong or missing keys get 429 until the window has room again.
A request with a valid key always passes (only its key's rate limit applies): one misconfigured
client, or a scanner, never locks the people with the right key out (behind a reverse proxy they all
share one address). The limit keeps failures cheap (a 429 does no work); it cannot stop guessing,
since a right guess passes: keys must be long and random (the server warns about a key under
MIN_KEY_CHARS characters; make one with `python -c "import secrets; print(secrets.token_urlsafe(32))"`).
Client address: the connection's peer, or, when the peer is one of Settings.trusted_proxies
(RAG_TRUSTED_PROXIES), the nearest address in X-Forwarded-For that is not a trusted proxy; a header
from any other peer is ignored (a client cannot pick the address it is limited by).
Cross-site writes: a web page the user visits can POST a form or multipart body to 127.0.0.1
without a CORS preflight. `CrossSiteGuard` refuses state-changing methods whose Origin (or
Sec-Fetch-Site) shows another site, unless the origin is the server's own or in RAG_CORS_ORIGINS.
Clients that are not browsers send neither header and are not affected.
Body limit: an ASGI middleware, so oversized uploads are refused before they are buffered.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.settings import Settings
from rag.web.errors import ApiError, error_body

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MIN_KEY_CHARS = 20  # token_urlsafe(16) makes 22: 128 random bits
log = logging.getLogger(__name__)


def parse_keys(raw: str) -> list[str]:
    return [k.strip() for k in raw.split(",") if k.strip()]


def parse_proxies(raw: str) -> list[Network]:
    """RAG_TRUSTED_PROXIES: comma-separated addresses or networks (10.0.0.5, 10.0.0.0/8, ::1)."""
    networks = []
    for item in (x.strip() for x in raw.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"trusted proxy {item!r} is not an IP address or network: list the reverse proxies' "
                             "addresses, comma-separated, e.g. RAG_TRUSTED_PROXIES=127.0.0.1,10.0.0.0/8") from None
    return networks


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip().strip('"')
    if text.startswith("[") and "]" in text:  # [::1]:8080
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # 203.0.113.7:51234
        text = text.split(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def client_address(peer: str, forwarded_for: Sequence[str], trusted: Sequence[Network]) -> str:
    """The client's address: `peer` unless it is a trusted proxy, then the nearest X-Forwarded-For hop
    (read from the right, where each proxy appends) that is not a trusted proxy."""
    def is_trusted(address: str) -> bool:
        ip = _ip(address)
        return ip is not None and any(ip in net for net in trusted)

    if not trusted or not is_trusted(peer):
        return peer
    hops = [h.strip() for line in forwarded_for for h in line.split(",") if h.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop):
            ip = _ip(hop)
            return str(ip) if ip is not None else hop[:64]
    return hops[0][:64] if hops else peer


class RateLimiter:
    """At most `per_minute` requests per caller in any 60 s window (0 = unlimited)."""

    def __init__(self, per_minute: int, window_s: float = 60.0) -> None:
        self.per_minute, self.window_s = per_minute, window_s
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, caller: str, record: bool = True,
              what: str = "Too many requests: the limit is {n} per minute.") -> None:
        """Raise 429 when `caller` is at the limit; otherwise count this request (unless record=False)."""
        if self.per_minute <= 0:
            return
        now = time.monotonic()
        with self._lock:
            q = self._hits.setdefault(caller, deque())
            while q and now - q[0] >= self.window_s:
                q.popleft()
            if len(q) >= self.per_minute:
                retry = max(1, int(self.window_s - (now - q[0])) + 1)
                raise ApiError(
                    429, "rate_limited", f"{what.format(n=self.per_minute)} Retry in {retry} s.",
                    {"Retry-After": str(retry)},
                )
            if record:
                q.append(now)
            if len(self._hits) > 10_000:  # forget idle callers so memory stays bounded
                for k in [k for k, v in self._hits.items() if not v or now - v[-1] >= self.window_s]:
                    del self._hits[k]


class Guard:
    """Checks the API key, then the caller's rate limit (a FastAPI dependency of the REST routes; called by
    rag/mcp_server/http.py's middleware for MCP)."""

    def __init__(self, api_keys: list[str], limiter: RateLimiter, auth_failures: RateLimiter | None = None,
                 trusted_proxies: Sequence[Network] = ()) -> None:
        self.api_keys, self.limiter = api_keys, limiter
        self.auth_failures = auth_failures or RateLimiter(0)
        self.trusted_proxies = list(trusted_proxies)

    @classmethod
    def from_settings(cls, settings: Settings) -> Guard:
        """The guard both HTTP front ends build from the same settings."""
        keys = parse_keys(settings.api_keys)
        if any(len(k) < MIN_KEY_CHARS for k in keys):
            log.warning("An API key in RAG_API_KEYS is shorter than %d characters and could be guessed; use long "
                        "random keys (python -c \"import secrets; print(secrets.token_urlsafe(32))\").", MIN_KEY_CHARS)
        return cls(keys, RateLimiter(settings.rate_limit_per_minute),
                   RateLimiter(settings.auth_failures_per_minute), parse_proxies(settings.trusted_proxies))

    def address(self, request: Request) -> str:
        peer = request.client.host if request.client else "unknown"
        return client_address(peer, request.headers.getlist("x-forwarded-for"), self.trusted_proxies)

    def _failed(self, address: str, error: ApiError) -> ApiError:
        # Over the limit: 429 before anything else is said (guessing stops); else this failure is counted.
        self.auth_failures.check(address, what="Too many failed authentication attempts from this address "
                                 "({n} per minute); a request with a valid key still passes.")
        return error

    def __call__(self, request: Request) -> str:
        address = self.address(request)
        caller = address
        if self.api_keys:
            header = request.headers.get("authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise self._failed(address, ApiError(
                    401, "unauthorized", "This server needs an API key: send `Authorization: Bearer <key>`.",
                    {"WWW-Authenticate": "Bearer"}))
            token = token.strip()
            if not any(hmac.compare_digest(token.encode(), k.encode()) for k in self.api_keys):
                raise self._failed(address, ApiError(
                    401, "invalid_api_key", "The API key is not valid. Check it with the server's operator.",
                    {"WWW-Authenticate": "Bearer"}))
            caller = "key:" + token  # a valid key: never held back by the address's failures
        self.limiter.check(caller)
        return caller


class BodyTooLarge(StarletteHTTPException):
    """Raised from inside `receive`: an HTTPException so FastAPI's body parsing passes it on as a 413."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"The request body is larger than the server's limit of {max_bytes} bytes; send less.")


class BodySizeLimit:
    """Refuse request bodies over `max_bytes` with 413, by Content-Length or while streaming in."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def _reject(self, send: Send) -> None:
        body = json.dumps(error_body(
            "payload_too_large",
            f"The request body is larger than the server's limit of {self.max_bytes} bytes; send less.",
        )).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await self._reject(send)
                    return
        seen = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._reject(send)


LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
WILDCARD_HOSTS = {"0.0.0.0", "::", "[::]", ""}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _origin_of(url: str) -> str | None:
    """'scheme://host[:port]' in lower case, or None for 'null' and anything unparsable."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


class CrossSiteGuard:
    """Refuse state-changing requests a browser sends on behalf of another site (403 cross_site_refused).

    Trusted: the server's own origin (scheme + Host header, if that host is loopback, the bound host,
    or any host when bound to all interfaces; a DNS-rebinding name for a loopback server is not
    trusted) and every origin in `allowed_origins` (RAG_CORS_ORIGINS). A request with neither Origin
    nor Sec-Fetch-Site comes from a non-browser client and passes; keys and rate limits still apply.
    """

    def __init__(self, app: ASGIApp, allowed_origins: list[str], bound_host: str) -> None:
        self.app = app
        self.allowed = {o for o in (_origin_of(x) for x in allowed_origins) if o}
        self.bound_host = bound_host.lower()

    def _own_origin(self, scope: Scope, host_header: str) -> str | None:
        hostname = urlsplit(f"//{host_header}").hostname or ""
        if hostname not in LOOPBACK_HOSTS | {self.bound_host.strip("[]")} and self.bound_host not in WILDCARD_HOSTS:
            return None
        return f"{scope.get('scheme', 'http')}://{host_header}".lower()

    def refused(self, scope: Scope) -> str | None:
        """Why this request is refused, or None to let it through."""
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS:
            return None
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        origin_header = headers.get("origin")
        fetch_site = headers.get("sec-fetch-site", "").lower()
        if origin_header is None:
            if fetch_site in ("", "same-origin", "none"):
                return None
            return f"a {fetch_site} request without an Origin header"
        origin = _origin_of(origin_header)
        trusted = set(self.allowed)
        own = self._own_origin(scope, headers.get("host", ""))
        if own:
            trusted.add(own)
        if origin is not None and origin in trusted:
            return None
        return f"Origin {origin_header!r}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        why = self.refused(scope)
        if why is None:
            await self.app(scope, receive, send)
            return
        body = json.dumps(error_body(
            "cross_site_refused",
            f"Refused a cross-site {scope['method']} ({why}): another web site may not change or query this "
            "server through your browser. To allow a front end on another origin, add it to RAG_CORS_ORIGINS.",
        )).encode()
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


async def send_json_error(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps(error_body(code, message)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


# uvicorn's HTTP parser (h11) answers a request head over this size with a plain-text 400 before the
# app sees it; `rag serve` raises the parser's limit to this so our JSON 414 is what callers get.
H11_MAX_HEAD_BYTES = 1 << 20


class QueryStringLimit:
    """Refuse URLs whose query string is over `max_bytes` with a JSON 414 (uri_too_long)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and len(scope.get("query_string", b"")) + len(scope.get("raw_path", b"")) > self.max_bytes:
            await send_json_error(send, 414, "uri_too_long",
                                  f"The URL is longer than {self.max_bytes} bytes. Send long text in a POST body "
                                  "(e.g. POST /v1/ask) instead of the query string.")
            return
        await self.app(scope, receive, send)
