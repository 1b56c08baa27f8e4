"""The MCP server over streamable HTTP, behind the same API keys, rate limit and cross-site checks as the REST API.

- API keys and rate limit: `rag.web.guard.Guard`, the very object the REST routes depend on.
- Cross-site: a browser page on another site must not drive the tools (they can read and, with
  --allow-writes, change the collection). Requests a browser marks `Sec-Fetch-Site: cross-site`
  are refused, and the SDK's DNS-rebinding protection accepts only our own Host and the
  operator's RAG_CORS_ORIGINS (or our own origin) as Origin.
"""

from __future__ import annotations

import json

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from rag.settings import Settings
from rag.web.errors import ApiError, error_body
from rag.web.guard import Guard

MCP_PATH = "/mcp"


class McpGuard:
    """ASGI middleware: refuse cross-site browser requests, then check the API key and rate limit."""

    def __init__(self, app: ASGIApp, guard: Guard) -> None:
        self.app, self.guard = app, guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
                raise ApiError(403, "cross_site_refused",
                               "Requests from another site's page are refused; call the MCP server from a client.")
            self.guard(request)
        except ApiError as e:
            body = json.dumps(error_body(e.code, e.message)).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            headers += [(k.lower().encode(), v.encode()) for k, v in e.headers.items()]
            await send({"type": "http.response.start", "status": e.status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def http_app(server: MCPServer, settings: Settings, port: int) -> ASGIApp:
    """The guarded streamable-HTTP app for `server`, answering at http://host:port/mcp."""
    own = [f"{h}:{port}" for h in (settings.host, "127.0.0.1", "localhost")]
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=sorted(set(own)),
        allowed_origins=sorted({*origins, *(f"http://{h}" for h in own)}),
    )
    app = server.streamable_http_app(streamable_http_path=MCP_PATH, transport_security=security, host=settings.host,
                                     max_request_body_size=settings.max_body_bytes)
    return McpGuard(app, Guard.from_settings(settings))  # the REST API's keys, limits and client address
