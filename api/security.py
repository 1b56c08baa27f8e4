"""API keys, per-key rate limiting and the request body size limit.

Auth: when Settings.api_keys is set, every /v1 route (the routers `Guard` is attached to) needs
`Authorization: Bearer <key>`; health checks, the static chat page and the API docs stay open
(they hold no data; the page asks for the key). Rate limit: a sliding one-minute window per key
(per client address without auth).
Body limit: an ASGI middleware, so oversized uploads are refused before they are buffered.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections import deque

from fastapi import Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ApiError, error_body

def parse_keys(raw: str) -> list[str]:
    return [k.strip() for k in raw.split(",") if k.strip()]


class RateLimiter:
    """At most `per_minute` requests per caller in any 60 s window (0 = unlimited)."""

    def __init__(self, per_minute: int, window_s: float = 60.0) -> None:
        self.per_minute, self.window_s = per_minute, window_s
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, caller: str) -> None:
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
                    429, "rate_limited",
                    f"Too many requests: the limit is {self.per_minute} per minute. Retry in {retry} s.",
                    {"Retry-After": str(retry)},
                )
            q.append(now)
            if len(self._hits) > 10_000:  # forget idle callers so memory stays bounded
                for k in [k for k, v in self._hits.items() if not v or now - v[-1] >= self.window_s]:
                    del self._hits[k]


class Guard:
    """FastAPI dependency: checks the API key, then the caller's rate limit."""

    def __init__(self, api_keys: list[str], limiter: RateLimiter) -> None:
        self.api_keys, self.limiter = api_keys, limiter

    def __call__(self, request: Request) -> str:
        caller = request.client.host if request.client else "unknown"
        if self.api_keys:
            header = request.headers.get("authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise ApiError(401, "unauthorized", "This server needs an API key: send `Authorization: Bearer <key>`.",
                               {"WWW-Authenticate": "Bearer"})
            token = token.strip()
            if not any(hmac.compare_digest(token.encode(), k.encode()) for k in self.api_keys):
                raise ApiError(401, "invalid_api_key", "The API key is not valid. Check it with the server's operator.",
                               {"WWW-Authenticate": "Bearer"})
            caller = "key:" + token
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
