"""RagService: every use case once — index, upload, delete, list, read, search, ask, stream, stats.

The CLI, the HTTP API and the MCP server are thin adapters over this class; none of them opens
a store or an encoder itself. One service serves one collection. Loading the embedding model is
an explicit step (`load()`), never a side effect of construction, and readers always see the
newest committed generation (the Assistant re-opens its snapshot when a writer moves on).
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rag.embed.factory import Role
from rag.embed.protocols import DocumentEncoder
from rag.ingest.dates import iso_day
from rag.ingest.discover import SUPPORTED, load_file
from rag.ingest.limits import LoadLimits
from rag.models import (
    Answer, AnswerMode, AskRequest, DocumentInfo, LoadProblem, LoadResult, Progress, SearchFilters,
)
from rag.retrieve.hybrid import SearchResult
from rag.service import memory
from rag.service.questions import check_question, final_answer
from rag.service.errors import (
    DocumentNotFound, FileNotFound, InvalidRequest, NoIndex, NothingIndexed, translate_store_errors,
)
from rag.service.local_model import LocalModel
from rag.service.refusals import Feedback, RefusalLog, RefusalStats
from rag.service.records import ArticleView, CollectionStats, DeleteResult, FileResult, FileStatus, UploadResult
from rag.service.uploads import SavedUploads, UploadedFile, screen, skipped
from rag.settings import Settings
from rag.store.collection import UPLOADS_DIR, Collection, CollectionNotFound
from rag.store.faults import crash_point
from rag.store.manifest import IncompatibleIndex, Manifest

if TYPE_CHECKING:  # the indexer (rich progress, chunker, writer) loads only when a command writes
    from rag.pipeline.indexer import IndexReport
    # and the answer path (evidence model, jieba, the reader) only when a command asks or searches
    from rag.service.assistant import Assistant

log = logging.getLogger("rag.service")
ANSWER_MODES = tuple(m.value for m in AnswerMode)
DOC_ID_CHARS = 64  # sha256 hex
_END = object()  # end of an answer stream


def make_filters(since: str | None = None, until: str | None = None, source: str | None = None) -> SearchFilters | None:
    """Filters from user input (CLI flags, API fields, MCP arguments); None when nothing restricts."""
    try:
        since, until = iso_day(since, "since"), iso_day(until, "until")
    except ValueError as e:
        raise InvalidRequest(str(e)) from None
    if since and until and since > until:
        raise InvalidRequest(f"since ({since}) is after until ({until}); swap them")
    source = (source or "").strip() or None
    if not (since or until or source):
        return None
    return SearchFilters(since=since, until=until, source_glob=source)


class RagService:
    def __init__(self, settings: Settings, embedder: DocumentEncoder | None = None, role: Role = "query",
                 local_model: LocalModel | None = None) -> None:
        self.settings = settings
        # Started by start() when the settings ask for it (RAG_LOCAL_LLM, --local-llm): front ends never start it.
        self.local_model = local_model if local_model is not None else LocalModel(supervised=role == "server")
        self._embedder = embedder  # tests and benchmarks share one loaded model
        self._role = role  # "query" for one-shot commands, "server" for long-running ones (rag.embed.factory)
        self._assistant: Assistant | None = None
        self._load_error: str | None = None
        self._lock = threading.Lock()
        # One upload/delete at a time in this process; the collection's file lock covers other processes.
        self.write_lock = threading.Lock()
        # Bounds the CPU-bound part of questions and searches (encoder, FAISS, scoring): what a request
        # holds while it computes grows with the number computing at once, the time it takes does not shrink.
        slots = settings.max_concurrent_queries
        self._query_slots = threading.BoundedSemaphore(slots or os.cpu_count() or 1) if slots != 0 else None
        self._trim_due = False  # a write freed an index generation's memory: hand free pages back (memory.py)
        self.refusals = RefusalLog(settings.collection_dir, settings.log_refused_questions,
                                   settings.refused_questions_retention_days, settings.log_feedback_questions)

    # ------------------------------------------------------------------ life cycle
    @property
    def collection(self) -> Collection:
        return Collection(self.settings.collection_dir)

    def start(self) -> RagService:
        """Start the local model if the settings ask for it (once; rag/service/local_model.py). A server calls
        this before serving; otherwise the first question does. Raises LocalModelError with what to do."""
        settings = self.local_model.start(self.settings)
        if settings is not self.settings:
            with self._lock:
                self.settings = settings
                if self._assistant is not None:  # built before the model was up (a search came first): rebuilt
                    # on the same encoder; the old one is left to requests still using it, not closed under them.
                    from rag.service.assistant import Assistant  # noqa: PLC0415 - see TYPE_CHECKING above

                    self._assistant = Assistant(settings, embedder=self._assistant.embedder, role=self._role)
        return self

    def load(self) -> bool:
        """Warm up: open the index and load the model once; remember why it failed otherwise."""
        with self._lock:
            if self._assistant is None:
                try:
                    from rag.service.assistant import Assistant  # noqa: PLC0415 - see TYPE_CHECKING above

                    self._assistant = Assistant(self.settings, embedder=self._embedder, role=self._role)
                    self._load_error = None
                except (CollectionNotFound, IncompatibleIndex) as e:
                    self._load_error = str(e)
            return self._assistant is not None

    @property
    def loaded(self) -> bool:
        return self._assistant is not None

    def assistant(self) -> Assistant:
        if self._assistant is None and not self.load():
            raise NoIndex(
                f"No index is loaded for collection {self.settings.collection!r} ({self._load_error}). "
                f"Add documents with `rag index PATH --collection {self.settings.collection}`, POST /v1/documents, "
                "or the MCP tool add_documents."
            )
        assert self._assistant is not None
        return self._assistant

    def close(self) -> None:
        with self._lock:
            if self._assistant is not None:
                self._assistant.close()
                self._assistant = None
            self.refusals.close()
        self.local_model.stop()

    def __enter__(self) -> RagService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reading
    def documents(self) -> list[DocumentInfo]:
        return self.assistant().snapshot.documents()

    def article(self, doc_id: str) -> ArticleView:
        article = self.assistant().article(doc_id) if _is_doc_id(doc_id) else None
        if article is None:
            raise DocumentNotFound(f"No document with id {doc_id!r} in the current index; list the ids first.")
        return ArticleView(doc_id=article.doc_id, title=article.title, date=article.date, source=article.source,
                           text=article.text, tags=list(article.tags), page_start=article.page_start,
                           page_end=article.page_end, meta=dict(article.meta))

    def stats(self) -> CollectionStats:
        coll = self.collection
        manifest = coll.manifest() if coll.exists() else None
        if manifest is None:
            raise NoIndex(f"No index at {self.settings.collection_dir}. Build one with "
                          f"`rag index PATH --collection {self.settings.collection}`.")
        size = sum(f.stat().st_size for f in self.settings.collection_dir.rglob("*") if f.is_file())
        return CollectionStats(collection=self.settings.collection, path=str(self.settings.collection_dir),
                               bytes_on_disk=size, manifest=manifest)

    # ------------------------------------------------------------------ questions
    def check_question(self, question: str) -> str:
        return check_question(question, self.settings.max_question_chars)

    def search(self, query: str, k: int | None = None, filters: SearchFilters | None = None) -> SearchResult:
        query = self.check_question(query)
        with self._query_slot():
            return self.assistant().search(query, k, filters)

    @contextmanager
    def _query_slot(self) -> Iterator[None]:
        """One of `max_concurrent_queries` compute slots (waits for a free one)."""
        if self._query_slots is None:
            yield
        else:
            with self._query_slots:
                yield
        if self._trim_due:  # the first query after a write has moved readers to the new generation
            self._trim_due = False
            memory.trim()

    def _written(self) -> None:
        """After a write: free pages now, and again once queries have dropped the old generation."""
        memory.trim()
        self._trim_due = True

    def ask(self, request: AskRequest | str) -> Answer:
        """The final verified Answer (a plain string is a request with defaults)."""
        return final_answer(self.stream(request))

    def stream(self, request: AskRequest | str) -> Iterator[str | Progress | Answer]:
        """Answer text as it is produced, then the final verified Answer (`rag.service.ask`). The request is
        checked before this returns, so a bad one is the caller's error (a 4xx), not a broken stream."""
        req = AskRequest(question=request) if isinstance(request, str) else request
        self.start()  # the local model, when asked for and not yet started
        assistant = self.assistant()
        return self._counted(assistant.stream(assistant.path.check(req)))

    def _counted(self, items: Iterator[str | Progress | Answer]) -> Iterator[str | Progress | Answer]:
        """Pass the stream through, counting the final answer (asked / refused per day).

        Each step of the stream is computed holding a query slot, released while the caller sends what
        it yielded: a slow reader never holds a slot."""
        while True:
            with self._query_slot():
                item = next(items, _END)
            if item is _END:
                return
            if isinstance(item, Answer):
                try:
                    self.refusals.record(item)
                except sqlite3.Error:  # statistics must never cost the user their answer
                    log.exception("could not record the answer in %s", self.refusals.path)
            yield item

    def record_feedback(self, feedback: Feedback) -> None:
        """Count a reader's "not helpful" mark beside the refusals (question text only if the operator opted in)."""
        self.refusals.record_feedback(feedback)

    def refusal_stats(self, days: int = 30) -> RefusalStats:
        """Questions and refusals per day (newest first); refused questions' text only when logging is on."""
        if not 1 <= days <= 3650:
            raise InvalidRequest(f"days must be between 1 and 3650, got {days}")
        return self.refusals.stats(days)

    # ------------------------------------------------------------------ writing
    def index(self, paths: list[Path], *, rebuild: bool = False, progress: bool = False,
              engine: str = "local") -> IndexReport:
        """Index files or folders; a re-run does only the work the change needs (engine: local or ray)."""
        for p in paths:
            if not Path(p).exists():
                raise InvalidRequest(f"{p} does not exist. Give files or folders of {SUPPORTED} documents.",
                                     code="not_found")
        from rag.pipeline.indexer import index_paths  # noqa: PLC0415 - see TYPE_CHECKING above

        with self.write_lock, translate_store_errors():
            return index_paths(paths, self.settings, rebuild=rebuild, progress=progress,
                               embedder=self._index_embedder(), engine=engine)

    def add_files(self, files: list[UploadedFile]) -> UploadResult:
        """Save uploads under `<collection>/uploads/` and index them; each file succeeds or is skipped alone."""
        if not files:
            raise InvalidRequest("No files in the upload.", code="no_files")
        accepted, results = screen(files, self.settings.max_body_bytes)
        report: IndexReport | None = None
        if accepted:
            from rag.pipeline.indexer import index_paths  # noqa: PLC0415 - see TYPE_CHECKING above

            # Parsed before the write lock: a slow or hostile file costs its own request at most the
            # loader bounds (RAG_INGEST_*), never the other writers' time.
            parsed = parse_uploads(self.uploads_dir, accepted, LoadLimits.from_settings(self.settings))
            with self.write_lock, translate_store_errors():
                saved = SavedUploads(self.uploads_dir, accepted)
                crash_point("upload_before_index")  # rag/service/recovery.py indexes what a kill here leaves
                try:
                    report = index_paths(saved.paths, self.settings, progress=False, embedder=self._index_embedder(),
                                         loaded=parsed)
                    failed = {p.source: p.message for p in report.problems}
                    for path in saved.paths:  # a file that failed to load is not kept: disk must match the index
                        if os.path.abspath(path) in failed:
                            saved.restore(path)
                except BaseException:
                    saved.rollback()
                    raise
                finally:
                    saved.close()
            self._written()
        return self._upload_result(accepted, results, report)

    def _upload_result(self, accepted: list[tuple[UploadedFile, str]], results: list[FileResult | None],
                       report: IndexReport | None) -> UploadResult:
        failed = {p.source: p.message for p in report.problems} if report else {}
        by_source: dict[str, list[DocumentInfo]] = {}
        generation = 0
        if report is not None and report.manifest is not None and report.manifest.chunks:
            snapshot = self.assistant().snapshot
            generation = snapshot.generation
            for d in snapshot.documents():
                by_source.setdefault(d.source, []).append(d)
        pending = iter(accepted)
        for i, r in enumerate(results):
            if r is not None:
                continue
            f, name = next(pending)
            source = os.path.abspath(self.uploads_dir / name)
            docs = by_source.get(source, [])
            if source in failed or not docs:
                results[i] = skipped(f.shown, "load_failed", failed.get(source, "no readable text in the file"))
            else:
                added = report is not None and report.documents_added > 0
                results[i] = FileResult(name=f.shown, saved_as=name, documents=docs,
                                        status=FileStatus.indexed if added else FileStatus.unchanged)
        final = [r for r in results if r is not None]
        problems = [f"{r.name}: {r.reason}" for r in final if r.status is FileStatus.skipped]
        if all(r.status is FileStatus.skipped for r in final):
            # One file refused before indexing keeps its precise code (unsupported_file_type, empty_file...).
            code = final[0].code if len(final) == 1 and final[0].code != "load_failed" else "nothing_indexed"
            raise NothingIndexed("Nothing could be indexed. " + "; ".join(problems), final, code=code)
        kept = [r for r in final if r.status is not FileStatus.skipped]
        return UploadResult(
            files=[r.saved_as for r in kept if r.saved_as], results=final,
            documents=[d for r in kept for d in r.documents],
            documents_added=report.documents_added if report else 0,
            documents_removed=report.documents_removed if report else 0,
            documents_unchanged=report.documents_unchanged if report else 0,
            chunks_added=report.chunks_added if report else 0, problems=problems, generation=generation,
        )

    def delete(self, doc_id: str, *, prefix: bool = False) -> DeleteResult:
        """Remove one document (by full id, or a unique id prefix when `prefix`) as a new generation."""
        if not prefix and not _is_doc_id(doc_id):
            raise DocumentNotFound(f"No document with id {doc_id!r}; ids are 64 hex characters. List them first.")
        from rag.pipeline.indexer import delete_document  # noqa: PLC0415 - see TYPE_CHECKING above

        with self.write_lock, translate_store_errors():
            try:
                manifest = delete_document(self.settings, doc_id)
            except KeyError as e:
                raise DocumentNotFound(str(e.args[0]) if e.args else str(e)) from None
            except FileNotFoundError as e:
                raise NoIndex(str(e)) from None
            self._remove_orphan_uploads()
        self._written()
        return DeleteResult(deleted=doc_id, documents=manifest.documents, chunks=manifest.chunks,
                            generation=manifest.generation)

    def delete_sources(self, sources: list[str], missing: str) -> tuple[Manifest, list[str]]:
        """Remove every document of these stored sources (whole files) as one generation: (manifest, ids removed).
        `missing` is the FileNotFound message when none is stored (rag/service/files.py names the files)."""
        from rag.pipeline.indexer import delete_sources  # noqa: PLC0415 - see TYPE_CHECKING above

        with self.write_lock, translate_store_errors():
            try:
                manifest, removed = delete_sources(self.settings, sources)
            except KeyError:
                raise FileNotFound(missing) from None
            except FileNotFoundError as e:
                raise NoIndex(str(e)) from None
            self._remove_orphan_uploads()
        self._written()
        return manifest, removed

    @property
    def uploads_dir(self) -> Path:
        return self.settings.collection_dir / UPLOADS_DIR

    def _remove_orphan_uploads(self) -> None:
        """An uploaded file whose last document is gone is removed too, so a re-index does not bring it back."""
        if not self.uploads_dir.is_dir():
            return
        snapshot = self.collection.open_snapshot()
        try:
            sources = {d.source for d in snapshot.documents()}
        finally:
            snapshot.close()
        for path in self.uploads_dir.iterdir():
            if path.is_file() and not path.name.startswith(".") and os.path.abspath(path) not in sources:
                path.unlink(missing_ok=True)

    def _index_embedder(self) -> DocumentEncoder | None:
        """The encoder already loaded (saves loading the model twice); the indexer checks it suits the collection."""
        if self._assistant is not None:
            return self._assistant.embedder  # type: ignore[return-value]  # make_encoder returns DocumentEncoders
        return self._embedder


def _is_doc_id(doc_id: str) -> bool:
    return len(doc_id) == DOC_ID_CHARS and all(c in "0123456789abcdef" for c in doc_id)


def parse_uploads(folder: Path, accepted: list[tuple[UploadedFile, str]], limits: LoadLimits) -> LoadResult:
    """Each upload parsed from a private staging folder as if it were already at `folder/name`."""
    staging = folder / f".staging-{uuid.uuid4().hex}"
    staging.mkdir(parents=True)
    try:
        loaded = LoadResult()
        for upload, name in accepted:
            (staging / name).write_bytes(upload.data)
            one = load_file(staging / name, os.path.abspath(folder / name), limits)
            loaded.articles += one.articles
            # Loaders name the file they read: the staging copy. Name the upload's place instead.
            loaded.problems += [LoadProblem(p.source, p.message.replace(str(staging), str(folder)))
                                for p in one.problems]
            loaded.files_seen += one.files_seen
        return loaded
    finally:
        shutil.rmtree(staging, ignore_errors=True)
