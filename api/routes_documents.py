"""Documents: list, read (for the citation viewer), upload (files or JSON text) and delete.

Thin adapter over RagService: uploads are saved under `<collection_dir>/uploads/` and indexed
incrementally, each file judged on its own (the result lists indexed / unchanged / skipped and why).
Readers keep answering from the previous generation until the new one commits.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.schemas import COLLECTION_FIELD, DeleteResult, DocumentDetail, DocumentList, TextDocumentIn, UploadResult
from api.state import get_service, public, use_collection
from rag.service import RagService, UploadedFile, text_document
from rag.web.errors import ApiError

router = APIRouter(tags=["documents"])
MAX_FILES_PER_UPLOAD = 20
Service = Annotated[RagService, Depends(get_service)]


@router.get("/v1/documents", response_model=DocumentList, summary="Indexed documents")
def list_documents(
    service: Service,
    http: Request,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> DocumentList:
    docs = service.documents()
    return public(http, DocumentList(total=len(docs), offset=offset, documents=docs[offset : offset + limit]))


@router.get("/v1/documents/{doc_id}", response_model=DocumentDetail, summary="One article's full text and metadata")
def get_document(doc_id: str, service: Service, http: Request) -> DocumentDetail:
    return public(http, service.article(doc_id))


async def _files_from_request(request: Request, service: RagService) -> tuple[list[UploadedFile], str | None]:
    """The uploaded files (multipart field 'files') or the JSON text document as one file, and the collection
    the body names (JSON field or multipart field 'collection'), if any."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    limit = service.settings.max_body_bytes
    if ctype == "application/json":
        try:
            doc = TextDocumentIn.model_validate_json(await request.body())
        except ValidationError as e:
            raise RequestValidationError([{**err, "loc": ("body", *err["loc"])} for err in e.errors()]) from None
        return [text_document(doc.text, doc.title, doc.date, doc.name)], doc.collection
    if ctype != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type",
                       "Send files as multipart/form-data (field 'files') or one text document as JSON "
                       '{"text": ..., "title": ..., "date": "YYYY-MM-DD"}.')
    form = await request.form(max_files=MAX_FILES_PER_UPLOAD, max_fields=MAX_FILES_PER_UPLOAD)
    try:
        uploads = [v for v in form.getlist("files") + form.getlist("file") if isinstance(v, UploadFile)]
        if not uploads:
            raise ApiError(422, "no_files", "No files in the upload: send them in the multipart field 'files'.")
        named = form.get("collection")
        # One byte past the limit is enough to know a file is too big; the service reports it per file.
        return ([UploadedFile(up.filename or "", await up.read(limit + 1)) for up in uploads],
                named if isinstance(named, str) else None)
    finally:
        await form.close()


@router.post(
    "/v1/documents",
    response_model=UploadResult,
    status_code=201,
    summary="Upload files (multipart field 'files') or one JSON text document; indexed incrementally, "
            "each file reported as indexed, unchanged or skipped (with the reason)",
    openapi_extra={"requestBody": {"content": {
        "multipart/form-data": {"schema": {"type": "object", "properties": {
            "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
            "collection": {"type": "string", "description": COLLECTION_FIELD}}}},
        "application/json": {"schema": TextDocumentIn.model_json_schema()},
    }}},
)
async def upload_documents(request: Request, service: Service) -> UploadResult:
    files, named = await _files_from_request(request, service)
    if named:  # the body's collection wins over the query parameter's
        service = use_collection(request, named)
    return public(request, await run_in_threadpool(service.add_files, files))


@router.delete("/v1/documents/{doc_id}", response_model=DeleteResult, summary="Remove one document from the index")
def delete(doc_id: str, service: Service) -> DeleteResult:
    return service.delete(doc_id)
