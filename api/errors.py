"""Every error the API returns is JSON: {"error": {"code": ..., "message": ...}} (rag/web/errors.py).

The message says what to do; the code is stable so clients can branch on it. Bad input gets a
4xx from these handlers, never a 500: validation errors become 422 with the offending field named.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag.web.errors import ApiError, error_body

log = logging.getLogger("rag.api")

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    503: "not_ready",
}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


def _describe(errors: list[dict[str, Any]]) -> str:
    """'body.k: Input should be less than or equal to 50; query.q: Field required'."""
    parts = []
    for e in errors[:5]:
        loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        msg = e.get("msg", "invalid")
        if e.get("type") == "json_invalid":
            msg = "the body is not valid JSON; send a JSON object with Content-Type: application/json"
        elif e.get("type") == "model_attributes_type" and loc == "body":
            msg = "the body must be a JSON object; send one with Content-Type: application/json"
        elif e.get("type") == "missing":
            msg = "this field is required"
        parts.append(f"{loc}: {msg}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "; ".join(parts) + more


def without_paths(request: Request, message: str) -> str:
    """The message with server paths (uploads folder, indexed root) shown as display names (the names made
    last: an error never loads an index just to be worded)."""
    names = getattr(request.state, "display_names", None) or getattr(request.app.state, "display_names", None)
    return names.text(message) if names is not None else message


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, without_paths(request, exc.message), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        details = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in errors]
        body = error_body("invalid_request", f"Invalid request: {_describe(errors)}.", details=details)
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            path = request.url.path
            if path.startswith("/v1/documents/") and not path.removeprefix("/v1/documents/"):
                message = ("The document id is missing: use /v1/documents/{doc_id} (list ids with "
                           "GET /v1/documents), or /v1/documents without the trailing '/'.")
            elif len(path) > 1 and path.endswith("/"):
                message = f"No such route. Did you mean {path.rstrip('/')!r} (no trailing '/')? See /docs."
            else:
                message = "No such route. See /docs for the API's routes."
        elif exc.status_code == 405:
            message = "This route does not accept that HTTP method. See /docs."
        return error_response(exc.status_code, code, message, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(500, "internal_error", f"The server failed: {type(exc).__name__}. Retry, or check the server log.")
