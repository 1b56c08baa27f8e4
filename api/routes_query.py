"""POST /v1/ask (JSON or server-sent events) and GET /v1/search."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import iterate_in_threadpool

from api.errors import ApiError, error_body, log
from api.schemas import MAX_K, AskRequest, FiltersIn, SearchResponse
from api.state import AppState, get_state
from rag.answer.assistant import Assistant
from rag.models import Answer
from rag.models import AskRequest as AskRecord

router = APIRouter(tags=["answers"])
SSE_PING_S = 15  # keeps proxies from closing a stream while the answer is being worked out


def check_question(question: str, state: AppState) -> None:
    limit = state.settings.max_question_chars
    if len(question) > limit:
        raise ApiError(422, "question_too_long",
                       f"The question has {len(question)} characters; the limit is {limit}. Shorten it.")


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


async def stream_answer(assistant: Assistant, request: AskRecord) -> AsyncIterator[ServerSentEvent]:
    """`delta` events as text is produced, `sentence` events with verified citations, a final `answer`.

    The Assistant is synchronous (embedding, answering): each step runs in the threadpool so the
    event loop keeps serving other requests. Failures after the stream started become an `error` event.
    """
    try:
        items = assistant.stream(request)
        async for item in iterate_in_threadpool(items):
            if isinstance(item, Answer):
                for event in answer_events(item):
                    yield event
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
def ask(req: AskRequest, state: Annotated[AppState, Depends(get_state)]) -> Any:
    check_question(req.question, state)
    assistant = state.assistant()
    request = req.to_request()
    if req.stream:
        return EventSourceResponse(stream_answer(assistant, request), ping=SSE_PING_S)
    return assistant.ask(request)


@router.get("/v1/search", response_model=SearchResponse, summary="Ranked passages with scores and metadata")
def search(
    state: Annotated[AppState, Depends(get_state)],
    q: Annotated[str, Query(min_length=1, description="What to look for")],
    k: Annotated[int, Query(ge=1, le=MAX_K)] = 5,
    since: Annotated[str | None, Query(description="YYYY-MM-DD")] = None,
    until: Annotated[str | None, Query(description="YYYY-MM-DD")] = None,
    source: Annotated[str | None, Query(description="Glob on the source path")] = None,
) -> SearchResponse:
    if not q.strip():
        raise ApiError(422, "invalid_request", "q is empty; give the words to search for.")
    check_question(q, state)
    try:
        filters = FiltersIn(since=since, until=until, source=source).to_search_filters()
    except ValidationError as e:
        raise RequestValidationError([{**err, "loc": ("query", *err["loc"])} for err in e.errors()]) from None
    result = state.assistant().search(q.strip(), k, filters)
    return SearchResponse(query=q, filters=result.filters, notes=result.notes, timings_ms=result.timings_ms,
                          hits=result.hits)
