"""Files: the indexed documents grouped by the file they came from, and deleting a whole file; the collections
served (GET /v1/collections).

A press-release file often holds several articles, each its own document (/v1/documents lists them
one by one); these routes show and delete the file with all of them (rag/service/files.py). Files
are named as every reply names them (uploads/<name>, or the path in the indexed folder), never by
the server's absolute path.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from api.state import get_service, public, source_display
from rag.service import RagService
from rag.service.collections import Collections
from rag.service.display import redacted
from rag.service.files import MAX_QUERY_CHARS, FileDeleteResult, FileList, delete_file, list_files

router = APIRouter(tags=["documents"])
Service = Annotated[RagService, Depends(get_service)]


@router.get("/v1/files", response_model=FileList,
            summary="Indexed files, newest first, each with its articles (title, date, the first lines)")
def files(
    service: Service,
    http: Request,
    q: Annotated[str | None, Query(max_length=MAX_QUERY_CHARS,
                                   description="Only files whose name or an article's title holds every word")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> FileList:
    return public(http, list_files(service, source_display(http), q, offset, limit))


@router.delete("/v1/files/{file:path}", response_model=FileDeleteResult,
               summary="Remove a file with all its articles (by its source as /v1/files lists it, or its file_id)")
def delete(file: str, service: Service, http: Request) -> FileDeleteResult:
    display = source_display(http)  # the names the caller saw: the file is gone from the next generation's
    return redacted(delete_file(service, display, file), display)


class CollectionInfo(BaseModel):
    name: str
    default: bool = Field(description="The collection a request without `collection` uses")
    documents: int = Field(description="Documents (articles) in its index; 0 before anything is indexed")


class CollectionList(BaseModel):
    default: str
    collections: list[CollectionInfo]


@router.get("/v1/collections", response_model=CollectionList, tags=["collections"],
            summary="The collections this server answers from; give one as `collection` in a request")
def collections(http: Request) -> CollectionList:
    registry: Collections = http.app.state.collections
    return CollectionList(default=registry.default, collections=[
        CollectionInfo(name=name, default=name == registry.default, documents=_documents(registry.get(name)))
        for name in registry.names()])


def _documents(service: RagService) -> int:
    collection = service.collection  # reads the manifest only: loads no model or index
    try:
        manifest = collection.manifest()
    finally:
        collection.close()
    return manifest.documents if manifest is not None else 0
