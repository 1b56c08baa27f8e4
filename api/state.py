"""What one server process holds: the collections it serves (rag/service/collections.py), one RagService
each (settings, the loaded model and index, the write lock).

Routes get the request's service with `Depends(get_service)` (the `collection` query parameter) or
`use_collection(request, body.collection)`; service errors become JSON errors here, so routes stay
one call each.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, TypeVar

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from api.errors import without_paths
from rag.models import Answer, Progress
from rag.service import RagService
from rag.service.collections import Collections
from rag.service.display import DisplayNames, SourceDisplay, redacted
from rag.service.errors import NothingIndexed, ServiceError
from rag.service.wording import plain_words
from rag.web.errors import error_body

# HTTP status for each service error code; anything else is a 422 (the caller's input).
STATUS_BY_CODE = {
    "no_index": 503,
    "document_not_found": 404,
    "collection_not_found": 404,
    "file_not_found": 404,
    "ambiguous_file": 409,
    "index_busy": 409,
    "incompatible_index": 409,
    "unsupported_file_type": 415,
    "payload_too_large": 413,
}


CollectionParam = Annotated[str | None, Query(
    max_length=64, description="The collection to use (default: the server's, RAG_COLLECTION); GET /v1/collections "
    "lists them")]


async def get_service(request: Request, collection: CollectionParam = None) -> RagService:
    # async: FastAPI runs a sync dependency in the threadpool, one hop (~0.1-0.3 ms) per request for a lookup.
    return use_collection(request, collection)


def use_collection(request: Request, name: str | None = None) -> RagService:
    """The service of collection `name` (a body's field), else of the `collection` query parameter, else the
    default; kept on the request so its replies and errors use that collection's display names.
    An unknown name is a 404 listing the collections served (rag/service/collections.py)."""
    registry: Collections = request.app.state.collections
    service = registry.get(name or request.query_params.get("collection"))
    request.state.rag = service
    request.state.display_names = registry.display_names(service)
    return service


T = TypeVar("T")


def service_error_response(exc: ServiceError, request: Request | None = None) -> JSONResponse:
    extra = {"results": [r.model_dump(mode="json") for r in exc.results]} if isinstance(exc, NothingIndexed) else {}
    message = without_paths(request, exc.message) if request is not None else exc.message
    for result in extra.get("results", []):
        if request is not None and isinstance(result.get("reason"), str):
            result["reason"] = without_paths(request, result["reason"])
    return JSONResponse(error_body(exc.code, message, **extra), status_code=STATUS_BY_CODE.get(exc.code, 422))


def install_service_errors(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return service_error_response(exc, request)


# ---- reliability additions: no server paths in replies, local model notes (see rag/service/display.py)

def source_display(request: Request) -> SourceDisplay:
    """Display names of the current generation's documents (rebuilt when a new generation commits)."""
    names: DisplayNames = getattr(request.state, "display_names", None) or request.app.state.display_names
    return names.current()


def public(request: Request, value: T) -> T:
    """`value` with server paths replaced by display names, as a copy (copied only where it changes):
    answers and passages may be cached inside the retriever, which needs the real paths."""
    return redacted(value, source_display(request))


def model_response(value: BaseModel) -> Response:
    """A route's pydantic model as JSON, serialised once by pydantic.

    Returning the model lets FastAPI validate it against `response_model` again, turn it into a
    dict and json.dumps that: 0.37 ms CPU per /v1/search response here, against 0.02 ms for
    `model_dump_json` (same fields: no aliases, `exclude=True` fields left out either way). The
    route keeps `response_model` for the OpenAPI schema."""
    return Response(value.model_dump_json(), media_type="application/json")


def model_notes(request: Request, started: float, endpoint_failed: bool = False) -> list[str]:
    """Notes for an answer begun at `started` (time.monotonic()) when the local model died or is down."""
    service: RagService = getattr(request.state, "rag", None) or request.app.state.rag
    return service.local_model.notes_since(started, endpoint_failed)


def finish_answer(request: Request, answer: Answer, started: float) -> Answer:
    """The answer as it leaves the API: local-model notes added, refusal notes in plain words (scores only
    with explain), server paths replaced."""
    answer.notes.extend(model_notes(request, started, endpoint_failed=answer.diagnostics.endpoint_failed))
    return public(request, plain_words(answer))


def finish_stream(request: Request, items: Iterator[str | Progress | Answer], started: float) -> Iterator[str | Progress | Answer]:
    """`items` with the final Answer passed through finish_answer."""
    for item in items:
        yield finish_answer(request, item, started) if isinstance(item, Answer) else item
