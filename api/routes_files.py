"""Files: the indexed documents grouped by the file they came from, and deleting a whole file.

A press-release file often holds several articles, each its own document (/v1/documents lists them
one by one); these routes show and delete the file with all of them (rag/service/files.py). Files
are named as every reply names them (uploads/<name>, or the path in the indexed folder), never by
the server's absolute path.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from api.state import get_service, public, source_display
from rag.service import RagService
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
