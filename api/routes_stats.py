"""GET /v1/stats/refusals: questions, refusals and "not helpful" marks per day for the operator (question
text only when logged); POST /v1/feedback: a reader marks an answer not helpful."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from api.schemas import COLLECTION_FIELD
from api.state import get_service, use_collection
from rag.service import RagService
from rag.service.refusals import Feedback, RefusalStats

router = APIRouter(tags=["operator"])


class FeedbackIn(Feedback):
    collection: str | None = Field(None, max_length=64, description=COLLECTION_FIELD)


@router.get("/v1/stats/refusals", response_model=RefusalStats,
            summary="Questions, refusals and 'not helpful' marks per day; question text only when the operator "
                    "logs it (RAG_LOG_REFUSED_QUESTIONS, RAG_LOG_FEEDBACK_QUESTIONS)")
def refusals(service: Annotated[RagService, Depends(get_service)],
             days: Annotated[int, Query(ge=1, le=3650, description="Days to show, newest first")] = 30) -> RefusalStats:
    return service.refusal_stats(days)


@router.post("/v1/feedback", status_code=202, tags=["answers"],
             summary="Mark an answer 'not helpful' (counted with the refusals; the question's text is kept only "
                     "when RAG_LOG_FEEDBACK_QUESTIONS is on)")
def feedback(body: FeedbackIn, http: Request) -> dict[str, object]:
    service = use_collection(http, body.collection)
    service.record_feedback(Feedback.model_validate(body.model_dump(exclude={"collection"})))
    return {"recorded": True, "question_kept": bool(service.settings.log_feedback_questions and body.question)}
