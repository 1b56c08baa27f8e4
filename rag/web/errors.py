"""The one JSON error shape of every HTTP front end: {"error": {"code": ..., "message": ...}}.

The message says what to do; the code is stable so clients can branch on it. `ApiError` carries an
HTTP status with them; the REST API's handlers (api/errors.py) and the guards turn it into a reply.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error with an HTTP status, a stable code and a message a person can act on."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}
