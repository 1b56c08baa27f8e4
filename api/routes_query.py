"""POST /v1/ask (JSON or server-sent events) and GET /v1/search."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import iterate_in_threadpool

from api.errors import log
from api.schemas import MAX_K, AskRequest, FiltersIn, SearchResponse
from api.state import finish_answer, finish_stream, get_service, model_response, public, use_collection
from rag.models import Answer, Progress
from rag.service import RagService
from rag.web.errors import error_body

router = APIRouter(tags=["answers"])
SSE_PING_S = 15  # keeps proxies from closing a stream while the answer is being worked out


Service = Annotated[RagService, Depends(get_service)]


def answer_events(answer: Answer) -> list[ServerSentEvent]:
    """One `sentence` event per answer sentence with its citations, then the whole `answer`."""
    by_n = {c.n: c for c in answer.citations}
    events = [
        ServerSentEvent(
            event="sentence",
            data=json.dumps({
                "index": i, "text": s.text, "supported": s.supported,
                "citations": [by_n[n].model_dump() for n in s.citations if n in by_n],
            }, ensure_ascii=False),
        )
        for i, s in enumerate(answer.sentences)
    ]
    events.append(ServerSentEvent(event="answer", data=answer.model_dump_json()))
    return events


async def stream_answer(items: Iterator[str | Progress | Answer]) -> AsyncIterator[ServerSentEvent]:
    """`progress` events while a slow step runs (the reader), `delta` events as text is produced, `sentence`
    events with verified citations, a final `answer`.

    The Assistant is synchronous (embedding, answering): each step runs in the threadpool so the
    event loop keeps serving other requests. Failures after the stream started become an `error` event.
    """
    try:
        async for item in iterate_in_threadpool(items):
            if isinstance(item, Answer):
                for event in answer_events(item):
                    yield event
            elif isinstance(item, Progress):
                yield ServerSentEvent(event="progress", data=item.model_dump_json())
            elif item:
                yield ServerSentEvent(event="delta", data=json.dumps({"text": item}, ensure_ascii=False))
    except Exception as e:  # noqa: BLE001 - the client must learn the stream failed, not see it just stop
        log.exception("streamed answer failed")
        body = error_body("answer_failed", f"Answering failed ({type(e).__name__}: {e}). Retry the question.")
        yield ServerSentEvent(event="error", data=json.dumps(body))


@router.post(
    "/v1/ask",
    response_model=Answer,
    summary="Answer a question with verified citations",
    responses={200: {"content": {"text/event-stream": {}},
                     "description": "Answer JSON, or with stream=true events: delta*, sentence*, answer (or error)"}},
)
def ask(req: AskRequest, http: Request) -> Any:
    service = use_collection(http, req.collection)
    request = req.to_request()
    started = time.monotonic()
    if req.stream:  # stream() checks the input before the response starts: bad input is still a 4xx
        return EventSourceResponse(stream_answer(finish_stream(http, service.stream(request), started)),
                                   ping=SSE_PING_S)
    return model_response(finish_answer(http, service.ask(request), started))


@router.get("/v1/search", response_model=SearchResponse, summary="Ranked passages with scores and metadata")
def search(
    service: Service,
    http: Request,
    q: Annotated[str, Query(min_length=1, description="What to look for")],
    k: Annotated[int, Query(ge=1, le=MAX_K)] = 5,
    since: Annotated[str | None, Query(description="YYYY-MM-DD")] = None,
    until: Annotated[str | None, Query(description="YYYY-MM-DD")] = None,
    source: Annotated[str | None, Query(description="Glob on the source path")] = None,
) -> Any:
    try:
        filters = FiltersIn(since=since, until=until, source=source).to_search_filters()
    except ValidationError as e:
        raise RequestValidationError([{**err, "loc": ("query", *err["loc"])} for err in e.errors()]) from None
    result = service.search(q, k, filters)
    return model_response(public(http, SearchResponse(query=q, filters=result.filters, notes=result.notes,
                                                      timings_ms=result.timings_ms, hits=result.hits)))
