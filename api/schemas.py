"""Request and response bodies of the HTTP API (answers, hits and citations reuse rag.models)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rag.ingest.dates import iso_day
from rag.models import AnswerMode, ChatTurn, DocumentInfo, Hit, SearchFilters
from rag.models import AskRequest as AskRecord
from rag.service import ArticleView, DeleteResult, UploadResult  # noqa: F401 - the service's records, served as they are

MAX_HISTORY_TURNS = 50
MAX_TURN_CHARS = 20_000
MAX_K = 50
COLLECTION_FIELD = "The collection to use (default: the server's, RAG_COLLECTION); GET /v1/collections lists them"


def check_date(value: str | None, name: str) -> str | None:
    return iso_day(value, name)


class FiltersIn(BaseModel):
    """Restrict retrieval to a date range and/or sources matching a glob."""

    model_config = ConfigDict(extra="forbid")
    since: str | None = Field(None, description="Only documents dated on/after this day (YYYY-MM-DD)")
    until: str | None = Field(None, description="Only documents dated on/before this day (YYYY-MM-DD)")
    source: str | None = Field(None, max_length=500, description="Glob on the document's source path, e.g. *pudong*")

    @field_validator("since", "until")
    @classmethod
    def _date(cls, v: str | None, info: Any) -> str | None:
        return check_date(v, info.field_name)

    @model_validator(mode="after")
    def _order(self) -> FiltersIn:
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"since ({self.since}) is after until ({self.until}); swap them")
        return self

    def to_search_filters(self) -> SearchFilters | None:
        if not (self.since or self.until or self.source):
            return None
        return SearchFilters(since=self.since, until=self.until, source_glob=self.source or None)


class Turn(BaseModel):
    role: Literal["user", "assistant", "system"]
    content: str = Field(max_length=MAX_TURN_CHARS)


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=1, description="The question; its longest length is Settings.max_question_chars")
    history: list[Turn] = Field(default_factory=list, max_length=MAX_HISTORY_TURNS,
                                description="Earlier turns, oldest first; a follow-up is rewritten with them")
    k: int | None = Field(None, ge=1, le=MAX_K, description="Passages given to the answerer")
    filters: FiltersIn | None = None
    mode: Literal["auto", "extractive", "read", "llm", "hybrid"] | None = Field(
        None, description="Answering mode; auto = read when a reader is configured, else extractive")
    stream: bool = Field(False, description="Stream server-sent events instead of one JSON answer")
    explain: bool = Field(False, description="Attach the explain trace: passages, scored candidates, refusal margin")
    collection: str | None = Field(None, max_length=64, description=COLLECTION_FIELD)

    def to_request(self) -> AskRecord:
        """The request record the Assistant takes (shared with the CLI, MCP and eval)."""
        return AskRecord(
            question=self.question,
            k=self.k,
            filters=self.filters.to_search_filters() if self.filters else None,
            history=[ChatTurn(role=t.role, content=t.content) for t in self.history if t.role != "system"],
            mode=AnswerMode(self.mode) if self.mode else None,
            explain=self.explain,
        )

    @field_validator("question")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("the question is empty; type a question")
        return v.strip()


class SearchResponse(BaseModel):
    query: str
    filters: SearchFilters
    notes: list[str]
    timings_ms: dict[str, float]
    hits: list[Hit]


DocumentSummary = DocumentInfo  # the store's own listing record, served as is


class DocumentList(BaseModel):
    total: int
    offset: int
    documents: list[DocumentSummary]


DocumentDetail = ArticleView


class TextDocumentIn(BaseModel):
    """A document sent as JSON text instead of a file."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, description="The document's body")
    title: str = Field("", max_length=500)
    date: str | None = Field(None, description="YYYY-MM-DD")
    name: str | None = Field(None, max_length=100, description="File name to save it under (without extension)")
    collection: str | None = Field(None, max_length=64, description=COLLECTION_FIELD)

    @field_validator("date")
    @classmethod
    def _date(cls, v: str | None) -> str | None:
        return check_date(v, "date")

    @field_validator("text")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("the text is empty")
        return v
