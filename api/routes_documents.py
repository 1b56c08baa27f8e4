"""Documents: list, read (for the citation viewer), upload (files or JSON text) and delete.

Uploads are saved under `<collection_dir>/uploads/` so they persist and a later `rag index` run
sees the same files, then indexed incrementally. Re-uploading a file with the same name replaces
its documents. Readers keep answering from the previous generation until the new one commits.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.errors import ApiError
from api.schemas import DeleteResult, DocumentDetail, DocumentList, TextDocumentIn, UploadResult
from api.state import AppState, get_state
from rag.pipeline.indexer import delete_document, index_paths
from rag.store.manifest import IncompatibleIndex

router = APIRouter(tags=["documents"])
ACCEPTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf", ".jsonl")
MAX_FILES_PER_UPLOAD = 20
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_DOC_ID = re.compile(r"^[0-9a-f]{64}$")


def uploads_dir(state: AppState) -> Path:
    return state.settings.collection_dir / "uploads"


def safe_name(filename: str) -> str:
    """A file name that cannot escape uploads/ or be hidden: 'a/../b c.txt' -> 'b_c.txt'."""
    base = os.path.basename(filename.replace("\\", "/")).strip()
    base = _SAFE_NAME.sub("_", base).lstrip("._-")
    return base[:120]


@router.get("/v1/documents", response_model=DocumentList, summary="Indexed documents")
def list_documents(
    state: Annotated[AppState, Depends(get_state)],
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> DocumentList:
    docs = state.assistant().snapshot.documents()
    return DocumentList(total=len(docs), offset=offset, documents=docs[offset : offset + limit])


def _not_found(doc_id: str) -> ApiError:
    return ApiError(404, "document_not_found",
                    f"No document with id {doc_id!r} in the current index. List ids with GET /v1/documents.")


@router.get("/v1/documents/{doc_id}", response_model=DocumentDetail, summary="One article's full text and metadata")
def get_document(doc_id: str, state: Annotated[AppState, Depends(get_state)]) -> DocumentDetail:
    article = state.assistant().article(doc_id) if _DOC_ID.match(doc_id) else None
    if article is None:
        raise _not_found(doc_id)
    return DocumentDetail(doc_id=article.doc_id, title=article.title, date=article.date, source=article.source,
                          text=article.text, tags=list(article.tags), page_start=article.page_start,
                          page_end=article.page_end, meta=dict(article.meta))


async def _files_from_request(request: Request, state: AppState) -> list[tuple[str, bytes]]:
    """(safe file name, bytes) for each uploaded file (multipart) or the JSON text document."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    limit = state.settings.max_body_bytes
    if ctype == "application/json":
        try:
            doc = TextDocumentIn.model_validate_json(await request.body())
        except ValidationError as e:
            raise RequestValidationError([{**err, "loc": ("body", *err["loc"])} for err in e.errors()]) from None
        digest = hashlib.sha256(f"{doc.title}\0{doc.text}".encode()).hexdigest()[:12]
        stem = safe_name(doc.name or doc.title or "text")[:60].rsplit(".", 1)[0] or "text"
        record = {"id": digest, "title": doc.title, "text": doc.text, **({"date": doc.date} if doc.date else {})}
        return [(f"{stem}-{digest}.jsonl", (json.dumps(record, ensure_ascii=False) + "\n").encode())]
    if ctype != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type",
                       "Send files as multipart/form-data (field 'files') or one text document as JSON "
                       '{"text": ..., "title": ..., "date": "YYYY-MM-DD"}.')
    form = await request.form(max_files=MAX_FILES_PER_UPLOAD, max_fields=MAX_FILES_PER_UPLOAD)
    try:
        uploads = [v for v in form.getlist("files") + form.getlist("file") if isinstance(v, UploadFile)]
        if not uploads:
            raise ApiError(422, "no_files", "No files in the upload: send them in the multipart field 'files'.")
        out: list[tuple[str, bytes]] = []
        for up in uploads:
            name = safe_name(up.filename or "")
            if not name.lower().endswith(ACCEPTED_SUFFIXES):
                raise ApiError(415, "unsupported_file_type",
                               f"{up.filename!r} is not an accepted type; upload one of {', '.join(ACCEPTED_SUFFIXES)}.")
            data = await up.read(limit + 1)
            if len(data) > limit:
                raise ApiError(413, "payload_too_large", f"{up.filename!r} is larger than {limit} bytes; split it.")
            if not data.strip():
                raise ApiError(422, "empty_file", f"{up.filename!r} is empty; nothing to index.")
            out.append((name, data))
        if len({n for n, _ in out}) != len(out):
            raise ApiError(422, "duplicate_names", "Two uploaded files have the same name; rename one.")
        return out
    finally:
        await form.close()


def _save_and_index(state: AppState, files: list[tuple[str, bytes]]) -> UploadResult:
    """Write the files (keeping backups of replaced ones), index them, and roll back on failure."""
    folder = uploads_dir(state)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / name for name, _ in files]
    backups: dict[Path, Path] = {}
    with state.write_lock:
        try:
            for path, (_, data) in zip(paths, files):
                if path.exists():
                    backups[path] = path.with_name(f".{path.name}.bak")
                    shutil.copy2(path, backups[path])
                tmp = path.with_name(f".{path.name}.part")
                tmp.write_bytes(data)
                os.replace(tmp, path)  # atomic: a crash leaves the old or the new file, never half of one
            loaded = state.loaded
            report = index_paths(paths, state.settings, progress=False,
                                 embedder=loaded.embedder if loaded else state.embedder)
            failed = {p.source: p.message for p in report.problems}
            bad = [f"{Path(s).name}: {m}" for s, m in failed.items()]
            if report.manifest is None or report.manifest.chunks == 0 or len(failed) == len(paths):
                raise ApiError(422, "nothing_indexed", "Nothing could be indexed. " + ("; ".join(bad) or
                               "The files hold no readable text."))
            for path in paths:  # a file that failed to load is not kept: disk must match the index
                if os.path.abspath(path) in failed:
                    if path in backups:
                        os.replace(backups.pop(path), path)
                    else:
                        path.unlink(missing_ok=True)
        except BaseException:
            for path in paths:  # put replaced files back; drop new ones, so disk matches the index
                if path in backups:
                    os.replace(backups.pop(path), path)
                elif path.exists():
                    path.unlink()
            raise
        finally:
            for b in backups.values():
                b.unlink(missing_ok=True)
    assistant = state.loaded or state.assistant()
    snapshot = assistant.snapshot
    sources = {os.path.abspath(p) for p in paths}
    docs = [d for d in snapshot.documents() if d.source in sources]
    return UploadResult(
        files=[p.name for p in paths if os.path.abspath(p) not in failed], documents=docs,
        documents_added=report.documents_added, documents_removed=report.documents_removed,
        documents_unchanged=report.documents_unchanged, chunks_added=report.chunks_added, problems=bad,
        generation=snapshot.generation,
    )


@router.post(
    "/v1/documents",
    response_model=UploadResult,
    status_code=201,
    summary="Upload files (multipart field 'files') or one JSON text document; indexed incrementally",
    openapi_extra={"requestBody": {"content": {
        "multipart/form-data": {"schema": {"type": "object", "properties": {
            "files": {"type": "array", "items": {"type": "string", "format": "binary"}}}}},
        "application/json": {"schema": TextDocumentIn.model_json_schema()},
    }}},
)
async def upload_documents(request: Request, state: Annotated[AppState, Depends(get_state)]) -> UploadResult:
    files = await _files_from_request(request, state)
    try:
        return await run_in_threadpool(_save_and_index, state, files)
    except IncompatibleIndex as e:
        raise ApiError(409, "incompatible_index", str(e)) from None
    except RuntimeError as e:  # another process holds the collection's writer lock
        raise ApiError(409, "index_busy", str(e)) from None


def _delete(state: AppState, doc_id: str) -> DeleteResult:
    assistant = state.assistant()
    with state.write_lock:
        article = assistant.article(doc_id) if _DOC_ID.match(doc_id) else None
        if article is None:
            raise _not_found(doc_id)
        try:
            manifest = delete_document(state.settings, doc_id)
        except KeyError:
            raise _not_found(doc_id) from None
        snapshot = assistant.snapshot
        # An uploaded file whose last document is gone is removed too, so it does not come back.
        upload = Path(article.source)
        if upload.parent == uploads_dir(state).resolve() or upload.parent == uploads_dir(state):
            if not any(d.source == article.source for d in snapshot.documents()):
                upload.unlink(missing_ok=True)
    return DeleteResult(deleted=doc_id, documents=manifest.documents, chunks=manifest.chunks,
                        generation=snapshot.generation)


@router.delete("/v1/documents/{doc_id}", response_model=DeleteResult, summary="Remove one document from the index")
def delete(doc_id: str, state: Annotated[AppState, Depends(get_state)]) -> DeleteResult:
    try:
        return _delete(state, doc_id)
    except RuntimeError as e:
        raise ApiError(409, "index_busy", str(e)) from None
