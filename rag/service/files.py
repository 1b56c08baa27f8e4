"""Documents by file: the listing the chat page's Documents panel shows, and deleting a whole file.

The store keeps one document per article, and a press-release file often holds several, so a
listing per document shows one file many times and deleting one entry leaves the rest of the file
indexed. Here documents are grouped by the file they came from (newest ingest first, the file's
articles in file order) and a file is deleted with all its articles in one new generation.

Files are named as every reply names them (rag/service/display.py: `uploads/<name>` or a path
relative to the indexed folder, never the server's absolute path) or by `file_id`, a short hash of
the stored source that stays the same while the file is indexed. The front end gives the names it
shows (`SourceDisplay`), so a file is deleted by the name the caller saw.
"""

from __future__ import annotations

import hashlib
import os

from pydantic import BaseModel, Field

from rag.models import DocumentEntry
from rag.service.core import RagService
from rag.service.display import SourceDisplay
from rag.service.errors import FileNotFound, InvalidRequest

PREVIEW_CHARS = 400  # the first lines of an article: enough for a glance, small for a list of thousands
FILE_ID_CHARS = 16
MAX_QUERY_CHARS = 200


class FileArticle(BaseModel):
    """One article of a file."""

    doc_id: str = Field(description="Document id: GET /v1/documents/{doc_id} reads the whole article")
    title: str
    date: str | None
    chunks: int
    chars: int
    preview: str = Field(description="The first lines of the article's text")
    indexed_at: str | None = Field(None, description="When it was indexed (UTC, ISO 8601)")


class FileEntry(BaseModel):
    """One indexed file with its articles in file order."""

    file_id: str = Field(description="A short id of the file, stable while it is indexed: DELETE /v1/files/{file_id}")
    source: str = Field(description="The file as replies name it: uploads/<name>, or its path in the indexed folder")
    name: str = Field(description="The file's name without its folder")
    indexed_at: str | None = Field(None, description="When its newest article was indexed (UTC, ISO 8601)")
    chunks: int
    chars: int
    articles: list[FileArticle]


class FileList(BaseModel):
    total: int = Field(description="Files matching (all files without q)")
    offset: int
    documents: int = Field(description="Articles in the matching files")
    files: list[FileEntry] = Field(description="Newest ingest first")


class FileDeleteResult(BaseModel):
    source: str = Field(description="The file deleted, as the listing named it")
    file_id: str
    deleted: list[str] = Field(description="The ids of the documents (articles) removed")
    documents: int = Field(description="Documents left in the collection")
    chunks: int
    generation: int


def file_id(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:FILE_ID_CHARS]


def _preview(text: str) -> str:
    """The first lines, cut at a word when the article goes on."""
    text = text.strip()
    if len(text) <= PREVIEW_CHARS:
        return text
    cut = text[:PREVIEW_CHARS].rsplit(None, 1)[0] if " " in text[:PREVIEW_CHARS] else text[:PREVIEW_CHARS]
    return cut.rstrip(" ,;:") + "…"


def _group(entries: list[DocumentEntry]) -> list[tuple[str, list[DocumentEntry]]]:
    """(source, its documents in file order), newest ingest first (highest chunk row id: never reused)."""
    by_source: dict[str, list[DocumentEntry]] = {}
    for e in entries:  # the store lists them by source, then by position in the file
        by_source.setdefault(e.source, []).append(e)
    return sorted(by_source.items(), key=lambda item: (-max(d.newest_row for d in item[1]), item[0]))


def _entry(source: str, docs: list[DocumentEntry]) -> FileEntry:
    times = [d.indexed_at for d in docs if d.indexed_at]
    return FileEntry(
        file_id=file_id(source), source=source, name=os.path.basename(source) or source,
        indexed_at=max(times) if times else None, chunks=sum(d.chunks for d in docs), chars=sum(d.chars for d in docs),
        articles=[FileArticle(doc_id=d.doc_id, title=d.title, date=d.date, chunks=d.chunks, chars=d.chars,
                              preview=_preview(d.preview), indexed_at=d.indexed_at) for d in docs])


def _matches(words: list[str], shown: str, docs: list[DocumentEntry]) -> bool:
    """Every word of the query in the file's shown name or in one of its articles' titles (any case)."""
    haystacks = [shown.casefold(), *(d.title.casefold() for d in docs)]
    return all(any(w in h for h in haystacks) for w in words)


def list_files(service: RagService, display: SourceDisplay, q: str | None = None, offset: int = 0,
               limit: int = 100) -> FileList:
    """The indexed files, newest first, each with its articles; `q` keeps the files whose shown name or an
    article's title holds every word of it. `source` fields are the stored paths: redact them on the way out."""
    q = (q or "").strip()
    if len(q) > MAX_QUERY_CHARS:
        raise InvalidRequest(f"q is {len(q)} characters long; search with at most {MAX_QUERY_CHARS}.")
    groups = _group(service.assistant().snapshot.document_entries(PREVIEW_CHARS + 1))
    if q:
        words = q.casefold().split()
        groups = [(s, docs) for s, docs in groups if _matches(words, display(s), docs)]
    return FileList(total=len(groups), offset=offset, documents=sum(len(docs) for _, docs in groups),
                    files=[_entry(s, docs) for s, docs in groups[offset: offset + limit]])


def find_source(service: RagService, display: SourceDisplay, file: str) -> str:
    """The stored source of the file named `file` (as shown, or its file_id); FileNotFound with advice."""
    wanted = file.strip().strip("/")
    sources = {d.source for d in service.documents()}
    found = sorted(s for s in sources if wanted and (display(s) == wanted or file_id(s) == wanted))
    if len(found) > 1:  # two folders' files shown alike (display.py shortens paths): the id tells them apart
        ids = ", ".join(file_id(s) for s in found)
        raise InvalidRequest(f"{len(found)} files are shown as {wanted!r}; delete one by its file_id ({ids}).",
                             code="ambiguous_file")
    if not found:
        raise FileNotFound(_missing(service, file))
    return found[0]


def _missing(service: RagService, file: str) -> str:
    return (f"No file {file!r} in collection {service.settings.collection!r}. List the files (GET /v1/files, or "
            "the Documents panel) and give a file's source as listed (e.g. uploads/notes.txt) or its file_id.")


def delete_file(service: RagService, display: SourceDisplay, file: str) -> FileDeleteResult:
    """Remove the file named `file` (as `display` shows it, or its file_id) with all its articles, as one new
    generation; an uploaded file is removed from disk too. The result's `source` is the stored path."""
    source = find_source(service, display, file)
    manifest, removed = service.delete_sources([source], _missing(service, file))
    return FileDeleteResult(source=source, file_id=file_id(source), deleted=removed, documents=manifest.documents,
                            chunks=manifest.chunks, generation=manifest.generation)
