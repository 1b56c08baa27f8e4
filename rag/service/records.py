"""Typed results of the service's use cases (shared by the CLI, the HTTP API and the MCP server)."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, Field

from rag.models import DocumentInfo
from rag.store.manifest import Manifest


class FileStatus(str, Enum):
    indexed = "indexed"  # new documents from this file are now searchable
    unchanged = "unchanged"  # the same content was already indexed
    skipped = "skipped"  # not indexed; `reason` says why and what to do


class FileResult(BaseModel):
    """What became of one uploaded file."""

    name: str = Field(description="The file name as uploaded")
    saved_as: str | None = Field(None, description="Name under the collection's uploads/ folder, when kept")
    status: FileStatus
    code: str | None = Field(None, description="Why it was skipped, as a stable code (e.g. unsupported_file_type)")
    reason: str | None = Field(None, description="Why it was skipped, and what to do")
    documents: list[DocumentInfo] = Field(default_factory=list, description="Documents indexed from this file")


class UploadResult(BaseModel):
    files: list[str] = Field(description="Saved file names under the collection's uploads/ folder")
    results: list[FileResult] = Field(default_factory=list, description="One entry per uploaded file, in order")
    documents: list[DocumentInfo] = Field(description="Documents now indexed from those files")
    documents_added: int
    documents_removed: int
    documents_unchanged: int
    chunks_added: int
    problems: list[str] = Field(description="'file: reason' for every skipped file")
    generation: int


class DeleteResult(BaseModel):
    deleted: str
    documents: int
    chunks: int
    generation: int


class ArticleView(BaseModel):
    """One article's full normalised text and metadata: citations' spans index into `text`."""

    doc_id: str
    title: str
    date: str | None
    source: str
    text: str
    tags: list[str] = Field(default_factory=list)
    page_start: int | None = None
    page_end: int | None = None
    meta: dict[str, str] = Field(default_factory=dict)


class CollectionStats(BaseModel):
    collection: str
    path: str
    bytes_on_disk: int
    manifest: Manifest = Field(description="What the collection was built with: model, chunking, counts, generation")
