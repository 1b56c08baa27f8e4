"""The MCP tools: search, ask, list_documents, get_document, list_collections (+ add_documents, delete_document
with writes on).

Each tool is one call into RagService; inputs are typed and described (the SDK turns the
annotations into each tool's JSON input schema) and outputs are pydantic models, so a client
gets them as structured content (and as JSON text for clients that read only text). Every tool
takes an optional `collection` (rag/service/collections.py): the server's default when left out.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

from rag.models import AnswerMode, AskRequest, DocumentInfo
from rag.service import ArticleView, DeleteResult, RagService, ServiceError, UploadedFile, UploadResult, make_filters
from rag.service.errors import UnknownCollection
from rag.service import text_document
from rag.service.collections import Collections
from rag.service.display import DisplayNames
from rag.service.wording import plain_words

MAX_K = 50
INSTRUCTIONS = (
    "Question answering over the operator's document collection. Use `ask` for an answer in which every "
    "sentence cites the exact passage (document id, title, date, character span, quote); it refuses when the "
    "documents do not hold the answer. Use `search` for ranked passages, `get_document` to read a cited "
    "document (citation spans index into its `text`)."
)

Since = Annotated[str | None, Field(description="Only documents dated on or after this day, YYYY-MM-DD")]
Until = Annotated[str | None, Field(description="Only documents dated on or before this day, YYYY-MM-DD")]
Source = Annotated[str | None, Field(description="Only documents whose source path matches this glob, e.g. *pudong*")]
K = Annotated[int, Field(ge=1, le=MAX_K, description="How many passages to retrieve")]
CollectionArg = Annotated[str | None, Field(max_length=64, description="The collection to use (default: the "
                                            "server's); list_collections names them")]


class Cite(BaseModel):
    n: int = Field(description="The [n] marker in the answer text")
    document: str = Field(description="Document id (use get_document to read it)")
    title: str
    date: str | None
    source: str
    page: int | None = None
    location: str | None = Field(None, description="Slide, sheet or section of the file the quote is in")
    start: int = Field(description="Start of the quote in the document's text (characters)")
    end: int = Field(description="End of the quote in the document's text (characters, exclusive)")
    quote: str = Field(description="Exactly text[start:end] of the document")
    verified: bool


class AskOutput(BaseModel):
    answer: str = Field(description="Answer text with [n] citation markers, or the refusal")
    refused: bool = Field(description="True when the documents do not hold the answer")
    mode: str
    citations: list[Cite]
    notes: list[str] = Field(default_factory=list)


class Passage(BaseModel):
    document: str
    title: str
    date: str | None
    source: str
    start: int
    end: int
    text: str
    score: float


class SearchOutput(BaseModel):
    query: str
    passages: list[Passage]
    notes: list[str] = Field(default_factory=list)


class DocumentsOutput(BaseModel):
    total: int
    offset: int
    documents: list[DocumentInfo]


class CollectionsOutput(BaseModel):
    default: str = Field(description="The collection used when a tool is given none")
    collections: list[str]


class NewDocument(BaseModel):
    """One document to add: a file's content (base64) or plain text."""

    name: str = Field(max_length=200, description="File name with its extension, e.g. notes.md or report.pdf")
    content_base64: str | None = Field(None, description="The file's bytes, base64-encoded (any supported type)")
    text: str | None = Field(None, description="Plain text instead of a file (give title and date with it)")
    title: str = Field("", max_length=500, description="Title for a plain-text document")
    date: str | None = Field(None, description="Date of a plain-text document, YYYY-MM-DD")


def build_server(served: RagService | Collections, allow_writes: bool = False) -> MCPServer:
    """An MCPServer whose tools call the service of the collection asked for (`served`: the collections, or one
    service); write tools exist only when `allow_writes`.

    Every reply names documents as the REST API does (rag/service/display.py): by the uploaded file's
    name or a path relative to the indexed folder, never the server's absolute path."""
    server = MCPServer("rag", instructions=INSTRUCTIONS, version="0.1.0")
    one = served if isinstance(served, RagService) else None
    names = {one.settings.collection: DisplayNames(one)} if one is not None else {}

    def use(collection: str | None) -> tuple[RagService, DisplayNames]:
        """The service and display names of `collection`; a ToolError lists the collections served."""
        try:
            if isinstance(served, Collections):
                service = served.get(collection)
                return service, served.display_names(service)
            assert one is not None
            if collection and collection != one.settings.collection:
                raise UnknownCollection(f"No collection {collection[:80]!r} here; this server serves "
                                        f"{one.settings.collection!r} only.")
            return one, names[one.settings.collection]
        except ServiceError as e:
            raise _fail(e) from None

    def _fail(e: ServiceError, shown: DisplayNames | None = None) -> ToolError:
        return ToolError(f"{e.code}: {shown.current().text(e.message) if shown is not None else e.message}")

    read_only = ToolAnnotations(readOnlyHint=True, openWorldHint=False)

    @server.tool(annotations=read_only)
    def search(query: Annotated[str, Field(min_length=1, description="What to look for")], k: K = 5,
               since: Since = None, until: Until = None, source: Source = None,
               collection: CollectionArg = None) -> SearchOutput:
        """Ranked passages from the collection with title, date, source, character span and score."""
        service, shown = use(collection)
        try:
            result = service.search(query, k, make_filters(since, until, source))
        except ServiceError as e:
            raise _fail(e, shown) from None
        return shown(SearchOutput(query=query, notes=result.notes, passages=[
            Passage(document=h.passage.doc_id, title=h.passage.title, date=h.passage.date, source=h.passage.source,
                    start=h.passage.start, end=h.passage.end, text=h.passage.text, score=h.score)
            for h in result.hits]))

    @server.tool(annotations=read_only)
    def ask(question: Annotated[str, Field(min_length=1, description="The question, in a full sentence")],
            k: Annotated[int | None, Field(ge=1, le=MAX_K, description="Passages to read (default: server setting)")] = None,
            since: Since = None, until: Until = None, source: Source = None,
            mode: Annotated[AnswerMode | None, Field(description="Who composes the answer (default: server setting)")] = None,
            collection: CollectionArg = None) -> AskOutput:
        """Answer from the documents only: every sentence cites a verified passage, or a plain refusal."""
        service, shown = use(collection)
        try:
            answer = service.ask(AskRequest(question=question, k=k, filters=make_filters(since, until, source),
                                            mode=mode))
        except ServiceError as e:
            raise _fail(e, shown) from None
        return shown(AskOutput(answer=answer.answer, refused=answer.refused, mode=answer.mode,
                         notes=plain_words(answer).notes,  # refusal scores only in an explain trace
                         citations=[Cite(n=c.n, document=c.doc_id, title=c.title, date=c.date, source=c.source,
                                         page=c.page, location=c.location, start=c.start, end=c.end, quote=c.quote, verified=c.verified)
                                    for c in answer.citations]))

    @server.tool(annotations=read_only)
    def list_documents(offset: Annotated[int, Field(ge=0, description="Skip this many")] = 0,
                       limit: Annotated[int, Field(ge=1, le=1000, description="Return at most this many")] = 100,
                       collection: CollectionArg = None) -> DocumentsOutput:
        """The indexed documents: id, title, date, source, chunk and character counts."""
        service, shown = use(collection)
        try:
            docs = service.documents()
        except ServiceError as e:
            raise _fail(e, shown) from None
        return shown(DocumentsOutput(total=len(docs), offset=offset, documents=docs[offset: offset + limit]))

    @server.tool(annotations=read_only)
    def get_document(document: Annotated[str, Field(description="Document id (64 hex characters)")],
                     collection: CollectionArg = None) -> ArticleView:
        """One document's full text and metadata; citation spans index into `text`."""
        service, shown = use(collection)
        try:
            return shown(service.article(document))
        except ServiceError as e:
            raise _fail(e, shown) from None

    @server.tool(annotations=read_only)
    def list_collections() -> CollectionsOutput:
        """The collections this server answers from; give one as `collection` to any tool."""
        if isinstance(served, Collections):
            return CollectionsOutput(default=served.default, collections=served.names())
        assert one is not None
        return CollectionsOutput(default=one.settings.collection, collections=[one.settings.collection])

    if allow_writes:
        @server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False, openWorldHint=False))
        def add_documents(documents: Annotated[list[NewDocument], Field(min_length=1, max_length=20,
                          description="Files (base64) or texts to index; each is reported on its own")],
                          collection: CollectionArg = None) -> UploadResult:
            """Add documents to the collection; each file is reported as indexed, unchanged or skipped (and why)."""
            service, shown = use(collection)
            try:
                return shown(service.add_files([_to_upload(d) for d in documents]))
            except ServiceError as e:
                raise _fail(e, shown) from None

        @server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=True, openWorldHint=False))
        def delete_document(document: Annotated[str, Field(description="Document id (64 hex characters)")],
                            collection: CollectionArg = None) -> DeleteResult:
            """Remove one document from the collection (its uploaded file too, once nothing else comes from it)."""
            service, shown = use(collection)
            try:
                return shown(service.delete(document))
            except ServiceError as e:
                raise _fail(e, shown) from None

    return server


def _to_upload(doc: NewDocument) -> UploadedFile:
    if (doc.text is None) == (doc.content_base64 is None):
        raise ToolError(f"{doc.name}: give exactly one of content_base64 (a file) or text")
    if doc.text is not None:
        try:
            return text_document(doc.text, doc.title, doc.date, doc.name)
        except ValueError as e:
            raise ToolError(f"{doc.name}: {e}") from None
    try:
        return UploadedFile(doc.name, base64.b64decode(doc.content_base64 or "", validate=True))
    except (binascii.Error, ValueError):
        raise ToolError(f"{doc.name}: content_base64 is not valid base64") from None
