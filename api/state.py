"""What one server process holds: one RagService (settings, the loaded model and index, the write lock).

Routes get it with `Depends(get_service)`; service errors become JSON errors here, so routes stay
one call each.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.errors import error_body
from rag.service import RagService
from rag.service.errors import NothingIndexed, ServiceError

# HTTP status for each service error code; anything else is a 422 (the caller's input).
STATUS_BY_CODE = {
    "no_index": 503,
    "document_not_found": 404,
    "index_busy": 409,
    "incompatible_index": 409,
    "unsupported_file_type": 415,
    "payload_too_large": 413,
}


def get_service(request: Request) -> RagService:
    return request.app.state.rag


def service_error_response(exc: ServiceError) -> JSONResponse:
    extra = {"results": [r.model_dump(mode="json") for r in exc.results]} if isinstance(exc, NothingIndexed) else {}
    return JSONResponse(error_body(exc.code, exc.message, **extra), status_code=STATUS_BY_CODE.get(exc.code, 422))


def install_service_errors(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(_: Request, exc: ServiceError) -> JSONResponse:
        return service_error_response(exc)
