"""GET /v1/stats/refusals: questions and refusals per day for the operator (refused questions only when logged)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.state import get_service
from rag.service import RagService
from rag.service.refusals import RefusalStats

router = APIRouter(tags=["operator"])


@router.get("/v1/stats/refusals", response_model=RefusalStats,
            summary="Questions and refusals per day; refused questions' text only when RAG_LOG_REFUSED_QUESTIONS is on")
def refusals(service: Annotated[RagService, Depends(get_service)],
             days: Annotated[int, Query(ge=1, le=3650, description="Days to show, newest first")] = 30) -> RefusalStats:
    return service.refusal_stats(days)
