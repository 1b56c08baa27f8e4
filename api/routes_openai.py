"""OpenAI-compatible chat completions, so any OpenAI client or chat front end can use the assistant.

The last user message is the question; earlier user/assistant messages are the history (a
follow-up is rewritten with them). The reply's text carries the numbered sources; the structured
citations ride along in the extra fields `citations` and `rag` (the whole Answer). A refusal is the
text as well as `message.refusal` (streamed: a `refusal` delta), so a client that shows refusals
apart finds it where OpenAI puts it.

`usage` counts word pieces of the collection's embedding model (its own tokenizer, e.g. MiniLM's
WordPiece; [CLS]/[SEP] not counted): the prompt is every message's text, the completion the reply's
content. An extractive answer runs no language model, so no other token count exists; an LLM answer
spends more tokens on its prompt (the passages) than this counts. Streamed, usage comes in a last
chunk with no choices when the request asks `stream_options: {"include_usage": true}`, as OpenAI does.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import iterate_in_threadpool

from api.errors import log
from api.schemas import MAX_HISTORY_TURNS, FiltersIn
from api.state import finish_answer, finish_stream, use_collection
from rag.embed.protocols import TokenCounter
from rag.models import Answer, AnswerMode, AskRequest, ChatTurn
from rag.service import RagService
from rag.web.errors import ApiError, error_body

router = APIRouter(tags=["openai"])
MODEL_ID = "rag"
MODES = {"rag": None, "rag-extractive": AnswerMode.EXTRACTIVE, "rag-read": AnswerMode.READ, "rag-llm": AnswerMode.LLM,
         "rag-hybrid": AnswerMode.HYBRID}


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class ChatRequest(BaseModel):
    """The OpenAI request body; sampling parameters are accepted and ignored (answers are grounded)."""

    model_config = ConfigDict(extra="allow")
    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_HISTORY_TURNS + 1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    k: int | None = Field(None, ge=1, le=50, description="Extra: passages given to the answerer")
    filters: FiltersIn | None = Field(None, description="Extra: date range / source filter")
    collection: str | None = Field(None, max_length=64, description="Extra: the collection to ask (default: the "
                                   "server's); an OpenAI client sends it with extra_body={'collection': ...}")


def sources_text(answer: Answer) -> str:
    if answer.citations:
        lines = [f"[{c.n}] {c.title or '(untitled)'}" + (f" ({c.date})" if c.date else "") + f" — {c.source}"
                 for c in answer.citations]
        return "\n\nSources:\n" + "\n".join(lines)
    if answer.refused and answer.closest:
        lines = [f"- {h.passage.title or '(untitled)'}" + (f" ({h.passage.date})" if h.passage.date else "")
                 for h in answer.closest]
        return "\n\nClosest passages:\n" + "\n".join(lines)
    return ""


def _split(req: ChatRequest) -> tuple[str, list[ChatTurn]]:
    last = req.messages[-1]
    if last.role != "user" or not last.text().strip():
        raise ApiError(422, "invalid_request", "The last message must be a non-empty user message holding the question.")
    history = [ChatTurn(role=m.role, content=m.text()) for m in req.messages[:-1] if m.role in ("user", "assistant")]
    return last.text().strip(), history


def usage(service: RagService, prompt: list[str], completion: str) -> dict[str, int]:
    """Word pieces of the embedding model's tokenizer (module docstring); a words x 4/3 estimate for an
    encoder without a tokenizer."""
    embedder = service.assistant().embedder
    texts = [*prompt, completion]
    if isinstance(embedder, TokenCounter):
        counts = [max(0, n - 2) for n in embedder.count_tokens_batch(texts)]  # [CLS] and [SEP]
    else:
        counts = [-(-len(t.split()) * 4 // 3) for t in texts]
    return {"prompt_tokens": sum(counts[:-1]), "completion_tokens": counts[-1], "total_tokens": sum(counts)}


def _extras(answer: Answer) -> dict[str, Any]:
    return {"citations": [c.model_dump() for c in answer.citations], "rag": answer.model_dump()}


def _chunk(cid: str, created: int, model: str, delta: dict[str, Any], finish: str | None = None,
           extra: dict[str, Any] | None = None) -> str:
    body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **(extra or {})}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


@router.get("/v1/models", summary="Models this server answers as (OpenAI-compatible)")
def models() -> dict[str, Any]:
    return {"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": "rag"} for m in MODES]}


@router.post("/v1/chat/completions", summary="OpenAI-compatible chat completion (streaming too)")
def chat_completions(req: ChatRequest, http: Request) -> Any:
    question, history = _split(req)
    service = use_collection(http, req.collection)
    if req.model not in MODES:
        raise ApiError(404, "model_not_found", f"Unknown model {req.model!r}; use one of {', '.join(MODES)}.")
    filters = req.filters.to_search_filters() if req.filters else None
    cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    request = AskRequest(question=question, k=req.k, filters=filters, history=history, mode=MODES[req.model])
    started = time.monotonic()
    prompt = [m.text() for m in req.messages]
    if not req.stream:
        answer = finish_answer(http, service.ask(request), started)
        content = answer.answer + sources_text(answer)
        return {
            "id": cid, "object": "chat.completion", "created": created, "model": req.model,
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": content,
                                     "refusal": answer.answer if answer.refused else None}}],
            "usage": usage(service, prompt, content),
            **_extras(answer),
        }

    items = finish_stream(http, service.stream(request), started)  # checks the input before streaming

    async def events() -> AsyncIterator[str]:
        yield _chunk(cid, created, req.model, {"role": "assistant", "content": ""})
        sent: list[str] = []
        try:
            async for item in iterate_in_threadpool(items):
                if isinstance(item, Answer):
                    if not sent and item.answer:  # a refusal streams no text of its own: it is said here
                        sent.append(item.answer)
                        yield _chunk(cid, created, req.model, {"content": item.answer})
                    tail = sources_text(item)
                    if tail:
                        sent.append(tail)
                        yield _chunk(cid, created, req.model, {"content": tail})
                    if item.refused:
                        yield _chunk(cid, created, req.model, {"refusal": item.answer})
                    yield _chunk(cid, created, req.model, {}, "stop", _extras(item))
                    if req.stream_options and req.stream_options.include_usage:
                        body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": req.model,
                                "choices": [], "usage": usage(service, prompt, "".join(sent))}
                        yield f"data: {json.dumps(body)}\n\n"
                elif isinstance(item, str) and item:  # Progress steps have no place in a chat completion
                    sent.append(item)
                    yield _chunk(cid, created, req.model, {"content": item})
        except Exception as e:  # noqa: BLE001 - tell the client; a silent stop looks like a short answer
            log.exception("streamed chat completion failed")
            yield f"data: {json.dumps(error_body('answer_failed', f'Answering failed ({type(e).__name__}). Retry.'))}\n\n"
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
