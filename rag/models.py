"""The typed records that flow through the pipeline: ingest -> chunk -> embed -> store -> retrieve -> answer -> cite.

Every record that crosses a module boundary is defined here, so a newcomer can read the
data flow in one file. Pipeline-internal records are frozen dataclasses (cheap to create by
the million); records that leave the process (search hits, answers, citations) are pydantic
models so the CLI's `--json`, the HTTP API and the eval harness share one schema.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:  # numpy only for a type hint: `rag --help` and `rag stats` need no numpy
    import numpy as np


def sha256_hex(*parts: str) -> str:
    """Stable id from text parts; NUL-separated so ("ab", "c") != ("a", "bc")."""
    h = hashlib.sha256()
    for i, p in enumerate(parts):
        if i:
            h.update(b"\0")
        h.update(p.encode("utf-8"))
    return h.hexdigest()


# ---------------------------------------------------------------- ingest


@dataclass(frozen=True)
class Article:
    """One logical document: a press release, a web page, a PDF page range, a JSONL record.

    `text` is the normalised body (what chunks and citations index into). `source` is the path
    of the file it came from and `span` the character span of the raw article in that file
    (before normalisation), so a reader can always find it in the original.
    """

    source: str
    text: str
    title: str = ""
    date: str | None = None  # ISO 8601 (YYYY-MM-DD or full timestamp)
    tags: tuple[str, ...] = ()
    span: tuple[int, int] = (0, 0)
    page_start: int | None = None  # 1-based, PDFs only
    page_end: int | None = None
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def doc_id(self) -> str:
        """sha256 of source plus normalised content: a changed article gets a new id."""
        return sha256_hex(self.source, self.title, self.text)


@dataclass(frozen=True)
class LoadProblem:
    """A file (or a record inside one) that could not be read, with what to do about it."""

    source: str
    message: str


@dataclass
class LoadResult:
    articles: list[Article] = field(default_factory=list)
    problems: list[LoadProblem] = field(default_factory=list)
    files_seen: list[str] = field(default_factory=list)
    assets: list[str] = field(default_factory=list)  # known non-document files passed over (.css, fonts, images)
    repeats: list[LoadProblem] = field(default_factory=list)  # files not indexed: their text repeats others'


# ---------------------------------------------------------------- chunk


@dataclass(frozen=True)
class Chunk:
    """A passage of one article. Invariant: article.text[start:end] == text."""

    doc_id: str
    ordinal: int  # position of the chunk within its article
    text: str
    start: int
    end: int
    n_tokens: int  # model word pieces of the embedded form (title prefix included)

    @property
    def chunk_id(self) -> str:
        return sha256_hex(self.doc_id, str(self.start), str(self.end))


# ---------------------------------------------------------------- store


@dataclass(frozen=True)
class ChunkSentences:
    """The sentences of one stored chunk with their vectors, as `Snapshot.sentences` returns them.

    spans[i] = (start, end) in the article's text, exactly the spans `split_chunk_sentences` gives
    (so article.text[start:end] is the sentence); vectors[i] is that sentence's unit vector
    (float32, shape (len(spans), dim)), made at index time by the collection's own encoder.
    """

    row_id: int
    doc_id: str
    spans: list[tuple[int, int]]
    vectors: np.ndarray


class DocumentInfo(BaseModel):
    """One stored document as listings show it (CLI, API)."""

    doc_id: str
    source: str
    title: str
    date: str | None
    chunks: int
    chars: int


class DocumentEntry(DocumentInfo):
    """A document as the by-file listing shows it: the start of its text and when it was indexed."""

    preview: str = Field(description="The first characters of the article's text")
    indexed_at: str | None = Field(None, description="When it was indexed (UTC, ISO 8601); None for an index "
                                   "built before times were recorded")
    newest_row: int = Field(0, exclude=True, description="Its newest chunk's row id: orders by ingest, never shown")


# ---------------------------------------------------------------- retrieve


class Passage(BaseModel):
    """A stored chunk with the metadata of its article, as retrieval returns it."""

    chunk_id: str
    doc_id: str
    text: str
    row_id: int | None = Field(
        None, exclude=True, description="Store row id of the chunk (Snapshot.sentences key); not serialised"
    )
    start: int = Field(description="Offset of the chunk in its article's text")
    end: int
    title: str = ""
    date: str | None = None
    source: str = ""
    page_start: int | None = None
    page_end: int | None = None


class Hit(BaseModel):
    """One ranked passage with every score that put it there."""

    passage: Passage
    score: float = Field(description="The final score the list is sorted by")
    dense_score: float | None = None
    bm25_score: float | None = None
    sentence_score: float | None = Field(
        default=None, description="Cosine of the chunk's best stored sentence to the question (the third fusion list)")
    fused_score: float | None = None
    rerank_score: float | None = None
    dense_rank: int | None = None
    bm25_rank: int | None = None


class SearchFilters(BaseModel):
    since: str | None = Field(default=None, description="ISO date, inclusive lower bound")
    until: str | None = Field(default=None, description="ISO date, inclusive upper bound")
    source_glob: str | None = Field(default=None, description="glob pattern on the source path")
    include_undated: bool = Field(
        default=False, description="Let documents without a date pass a date filter (set for automatic filters)"
    )
    automatic: bool = Field(default=False, description="True when the filter was read from the question itself")


# ---------------------------------------------------------------- ask (the request record)


class AnswerMode(str, Enum):
    """Who composes the answer. `auto` = read when a reader (the local model or any OpenAI-compatible endpoint)
    is configured, else extractive. `read`: the model names the answer, the source decides (rag.answer.reader)."""

    AUTO = "auto"
    EXTRACTIVE = "extractive"
    READ = "read"
    LLM = "llm"
    HYBRID = "hybrid"


class Progress(BaseModel):
    """A step of a streamed answer that takes a while (the reader reading); never part of the answer text."""

    stage: str = Field(description="e.g. 'reading'")
    message: str


class ChatTurn(BaseModel):
    """One earlier turn of a conversation; a follow-up question is rewritten with them."""

    role: Literal["user", "assistant"]
    content: str


class AskRequest(BaseModel):
    """One question as every front end hands it to `Assistant.ask`/`stream`: the CLI, the HTTP API, the
    MCP server and the eval harness build this record and nothing else (no positional five-argument calls)."""

    model_config = ConfigDict(frozen=True)

    question: str = Field(description="The question as the user wrote it")
    k: int | None = Field(None, ge=1, le=100, description="Passages to read; None = Settings.k")
    filters: SearchFilters | None = Field(None, description="Explicit filters; None lets the question set dates")
    history: list[ChatTurn] = Field(default_factory=list, description="Earlier turns, oldest first")
    mode: AnswerMode | None = Field(None, description="Who composes; None = Settings.answer_mode")
    explain: bool = Field(False, description="Attach an ExplainTrace (passages, candidates, refusal margin)")


# ---------------------------------------------------------------- explain (what each stage decided)


class PassageTrace(BaseModel):
    """A retrieved passage as the retrieval stage ranked it."""

    rank: int = Field(description="1-based rank in the retrieved list")
    chunk_id: str
    doc_id: str
    title: str
    score: float
    dense_score: float | None = None
    bm25_score: float | None = None
    sentence_score: float | None = Field(default=None, description="Best stored sentence's cosine (the sentence list)")
    dense_rank: int | None = None
    bm25_rank: int | None = None


class CandidateTrace(BaseModel):
    """A sentence candidate as the evidence scorer saw it."""

    text: str
    doc_id: str
    start: int
    end: int
    passage_rank: int = Field(description="1-based rank of the passage it came from")
    score: float = Field(description="Evidence model probability that this sentence answers the question")
    features: dict[str, float] = Field(default_factory=dict, description="Feature name -> value fed to the model")


class RefusalTrace(BaseModel):
    refused: bool
    reason: str = ""
    best_score: float | None = Field(None, description="Best candidate's evidence score")
    threshold: float = Field(description="Refuse when best_score is below this")
    margin: float | None = Field(None, description="best_score - threshold (negative = refused)")


class ExplainTrace(BaseModel):
    """Filled by each stage of the question flow as it runs, so an operator can tell a retrieval miss
    from a scoring miss from a refusal threshold."""

    rewritten_question: str | None = None
    passages: list[PassageTrace] = Field(default_factory=list)
    candidates: list[CandidateTrace] = Field(default_factory=list, description="Top candidates, best first")
    refusal: RefusalTrace | None = None
    composer: str | None = Field(None, description="Which composer wrote the answer")
    lead_rule: str | None = Field(None, description="Rule that chose the lead sentence over the model's first")
    model: str | None = Field(None, description="Evidence model file and its recorded cross-validated score")


# ---------------------------------------------------------------- answer and cite


class Citation(BaseModel):
    """A checkable pointer into one article: article_text[start:end] == quote."""

    n: int = Field(description="1-based number shown as [n] in the answer")
    chunk_id: str
    doc_id: str
    title: str
    date: str | None
    source: str
    page: int | None = None
    location: str | None = Field(None, description="Part of the file the quote is in: 'slide 3', \"sheet 'Budget'\"")
    start: int = Field(description="Offset of the quote in the article's text")
    end: int
    quote: str
    verified: bool = False
    similarity: float | None = None


class AnswerSentence(BaseModel):
    text: str
    citations: list[int] = Field(default_factory=list, description="Citation numbers")
    supported: bool = True


class AnswerDiagnostics(BaseModel):
    """Counts and scores of how the answer was made (typed; was a free-form meta dict)."""

    support: float | None = Field(None, description="Evidence score of the best sentence candidate")
    refusal_reason: str | None = None
    sentences: int = Field(0, description="Answer sentences composed")
    lead_clause_trimmed: bool = Field(False, description="The lead sentence was cut to its answering clause")
    lead_rule: str | None = Field(None, description="Why the lead sentence is not the model's first choice, e.g. "
                                  "'defines: semihosting' (a definition question, rag.answer.definition)")
    unverified_citations: int = 0
    llm_sentences: int | None = Field(None, description="Sentences the LLM wrote (LLM modes only)")
    dropped_sentences: int = Field(0, description="LLM sentences removed: no passage supports them")
    invalid_citation_numbers: int = Field(0, description="[n] markers outside the passages sent")
    attributed_sentences: int = Field(0, description="Unmarked LLM sentences attributed to their best passage")
    replaced_sentences: int = Field(0, description="Hybrid: extractive sentences added for dropped ones")
    endpoint_failed: bool = Field(False, description="LLM modes: the endpoint call failed (connection, timeout, "
                                  "server error), so the answer fell back to an extracted one")
    route: str | None = Field(None, description="Read mode: which way the scorer's confidence sent the question: "
                              "'refuse' (too little evidence), 'extractive' (the best sentence stands), 'reader'")
    reader_answer: str | None = Field(None, description="Read mode: the reader's short answer as it replied")
    reader_sentences: int = Field(0, description="Read mode: candidate sentences shown to the reader")


class Answer(BaseModel):
    question: str
    answer: str = Field(description="Answer text with [n] markers")
    refused: bool
    mode: str = Field(description="extractive | read | llm | hybrid | fallback: the path that answered")
    sentences: list[AnswerSentence] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    closest: list[Hit] = Field(default_factory=list, description="Closest passages when refused")
    filters: SearchFilters = Field(default_factory=SearchFilters)
    rewritten_question: str | None = None
    notes: list[str] = Field(default_factory=list, description="What the system did that the user should know")
    diagnostics: AnswerDiagnostics = Field(default_factory=lambda: AnswerDiagnostics())
    explain: ExplainTrace | None = Field(None, description="Set when the request asked for explain")
    timings_ms: dict[str, float] = Field(default_factory=dict)
