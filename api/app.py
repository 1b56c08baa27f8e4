"""The FastAPI application: `create_app(settings)`; `rag serve` runs it with uvicorn.

Routes: /v1/ask, /v1/search, /v1/documents[/{id}], /v1/files[/{file}], /v1/collections, /v1/chat/completions,
/v1/models, /healthz, /readyz, the chat page at / and the OpenAPI docs at /docs. Every /v1 request may name a
`collection` (body field, or query parameter); the default is RAG_COLLECTION.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi_offline import FastAPIOffline
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from api import routes_documents, routes_files, routes_openai, routes_query, routes_stats
from api.errors import install_error_handlers
from api.state import get_service, install_service_errors
from rag.embed.protocols import DocumentEncoder
from rag.ingest.discover import SUPPORTED_SUFFIXES
from rag.service import RagService
from rag.service.collections import Collections
from rag.service.local_model import LocalModel
from rag.service.recovery import recover_uploads
from rag.settings import Settings
from rag.web.guard import BodySizeLimit, CrossSiteGuard, Guard, QueryStringLimit

STATIC = Path(__file__).parent / "static"
# The chat page loads only its own files: no inline script or style, nothing from another origin,
# no framing (clickjacking), forms and fetches to this server only. (/docs keeps Swagger's inline script.)
CHAT_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def create_app(settings: Settings, embedder: DocumentEncoder | None = None, load_on_startup: bool = True,
               local_model: LocalModel | None = None, single: bool = False) -> FastAPI:
    """An app serving every collection in `settings.index_dir` (a request's `collection`; the default is
    `settings.collection`), or only that one when `single` (`rag serve -c NAME`). `embedder` lets tests share one
    loaded model. The service starts the local model when `settings.local_llm` asks for it (`rag serve
    --local-llm`); `local_model` lets tests hand it one already running. /readyz and answers' notes report it."""
    collections = Collections(settings, embedder=embedder, role="server", local_model=local_model, single=single)
    service = collections.get()  # the default collection, loaded at start (the others on their first request)

    def recover() -> None:
        for name in collections.names():  # uploads a crash left unindexed (rag/service/recovery.py)
            svc = collections.get(name)
            with svc.write_lock:
                app.state.recovery[name] = recover_uploads(svc.settings, embedder)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if load_on_startup:
            await run_in_threadpool(service.start)  # the local model, if asked for (`rag serve` started it already)
            await run_in_threadpool(recover)
            await run_in_threadpool(service.load)  # load model + index before the first request
        yield
        collections.close()

    # FastAPIOffline serves the Swagger/ReDoc assets itself: /docs must work without internet.
    app = FastAPIOffline(
        title="rag",
        summary="Question answering over your documents, with verified citations.",
        version="0.1.0",
        lifespan=lifespan,
    )
    # A trailing slash gets our JSON 404 naming the route, not a bare 307 (which a DELETE client
    # would follow to a route that does not take DELETE).
    app.router.redirect_slashes = False
    app.state.collections = collections
    app.state.rag = service  # the default collection's
    app.state.display_names = collections.display_names(service)  # no server paths in replies (rag/service/display.py)
    app.state.recovery = {}
    install_error_handlers(app)
    install_service_errors(app)
    guard = Guard.from_settings(settings)

    async def guarded(request: Request) -> str:
        # On the event loop: a sync dependency costs a threadpool hop per request, and the check is a
        # dict lookup under a lock, never blocking.
        return guard(request)

    for router in (routes_query.router, routes_documents.router, routes_files.router, routes_openai.router,
                   routes_stats.router):
        app.include_router(router, dependencies=[Depends(guarded)])

    @app.get("/healthz", tags=["health"], summary="The process is up")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="Index and model loaded: ready to answer")
    def readyz(svc: Annotated[RagService, Depends(get_service)]) -> Any:
        name = svc.settings.collection
        if not svc.load():
            return JSONResponse(
                {"ready": False, "index": False, "model": False, "collection": name, "documents": 0,
                 "llm_configured": bool(svc.settings.llm_base_url), "accepted_types": list(SUPPORTED_SUFFIXES),
                 "error": {"code": "no_index", "message": f"No index for collection {name!r}: "
                           "add documents with POST /v1/documents or `rag index PATH`."}},
                status_code=503,
            )
        snap = svc.assistant().snapshot
        body: dict[str, Any] = {
            "ready": True, "llm_configured": bool(svc.settings.llm_base_url), "accepted_types": list(SUPPORTED_SUFFIXES),
            "index": True, "model": True, "collection": name,
            "generation": snap.generation, "documents": snap.manifest.documents, "chunks": snap.manifest.chunks,
            "embedding_model": snap.manifest.model, "encoder": _encoder_info(svc.assistant().embedder)}
        recovery = app.state.recovery.get(name)
        if recovery is not None and (recovery.indexed or recovery.failed):
            body["recovered_uploads"] = recovery.as_dict()
        local_llm = svc.local_model.status()
        if local_llm is not None:
            body["local_llm"] = local_llm
            if local_llm["state"] != "ready":
                # Asked to answer with the local model and it is down: not ready (extractive answers go on).
                body["ready"] = False
                body["error"] = {"code": "local_llm_down", "message": (
                    f"The local model server is {body['local_llm']['state']} (see local_llm.failures); llm and "
                    "hybrid answers fall back to extracted ones. Restart `rag serve --local-llm` if it stays down.")}
                return JSONResponse(body, status_code=503)
        return body

    @app.get("/", include_in_schema=False)
    def chat_page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache", "Content-Security-Policy": CHAT_CSP})

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:  # browsers ask for it on every origin (the page itself links favicon.svg)
        return FileResponse(STATIC / "favicon.ico", media_type="image/x-icon", headers={"Cache-Control": "max-age=86400"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:  # CORS stays off unless an operator names the origins
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"])
    # Added last = outermost: a cross-site write is refused before CORS, body parsing or any route.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(QueryStringLimit, max_bytes=settings.max_url_bytes)
    app.add_middleware(CrossSiteGuard, allowed_origins=origins, bound_host=settings.host)
    return app


def _encoder_info(encoder: Any) -> dict[str, Any]:
    """Which backend encodes questions now and, for the server's measured encoder, what was measured."""
    ident = encoder.identity
    return {"backend": ident.backend, "precision": ident.precision, "compat_key": ident.compat_key,
            **getattr(encoder, "report", {})}


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory api.app:app_from_env` (settings from RAG_* variables)."""
    return create_app(Settings())
