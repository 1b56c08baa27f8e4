"""`rag serve`: the HTTP API and chat page (api/), run by uvicorn.

No `from __future__ import annotations` here: typer evaluates the option annotations at registration.
"""


from typing import Annotated, Optional

import typer

from rag.cli.common import CollectionOpt, IndexDirOpt, err, fail, make_settings


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: Annotated[Optional[str], typer.Option(help="Interface to bind (RAG_HOST)")] = None,
        port: Annotated[Optional[int], typer.Option(min=1, max=65535, help="Port (RAG_PORT)")] = None,
        collection: CollectionOpt = None,
        index_dir: IndexDirOpt = None,
        log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
        local_llm: Annotated[Optional[bool], typer.Option(
            "--local-llm/--no-local-llm",
            help="Answer with the local reader model (llama.cpp on 127.0.0.1, started by the service) (RAG_LOCAL_LLM)")] = None,
        local_llm_min_memory_gib: Annotated[Optional[float], typer.Option(
            min=0, help="With --local-llm: start the model only if MemAvailable is at least this many GiB, else "
            "serve without it (RAG_LOCAL_LLM_MIN_MEMORY_GIB)")] = None,
    ) -> None:
        """Serve the HTTP API (/docs) and the chat page (/): every collection in the index folder (a request's
        `collection`; the default is RAG_COLLECTION), or only the one given with -c."""
        import uvicorn  # noqa: PLC0415 - heavy, only for this command

        from api.app import create_app  # noqa: PLC0415

        from rag.service import RagService, ServiceError  # noqa: PLC0415
        from rag.service.memory import limit_malloc_arenas  # noqa: PLC0415
        from rag.web.guard import H11_MAX_HEAD_BYTES  # noqa: PLC0415

        limit_malloc_arenas()  # before the server's threads start (rag/service/memory.py says why)
        settings = make_settings(collection, index_dir, host=host, port=port, local_llm=local_llm,
                                 local_llm_min_memory_gib=local_llm_min_memory_gib)
        if not settings.collection_dir.exists():
            err.print(f"[yellow]No index at {settings.collection_dir} yet;[/] the server starts anyway: "
                      "add documents with POST /v1/documents or `rag index PATH`.", highlight=False)
        if settings.host not in ("127.0.0.1", "localhost", "::1") and not settings.api_keys:
            err.print("[yellow]Listening beyond localhost without RAG_API_KEYS: anyone who can reach the port "
                      "can query and change the index.[/]", highlight=False)
        app = create_app(settings, single=collection is not None)
        service: RagService = app.state.rag  # the default collection's; the local model is shared by all
        if collection is None:
            err.print(f"Collections: {', '.join(app.state.collections.names())} (default {settings.collection!r}; "
                      "`-c NAME` serves one).", highlight=False)
        try:
            if settings.local_llm:
                need = settings.local_llm_min_memory_gib
                err.print(f"Starting the local model on 127.0.0.1:{settings.local_llm_port}"
                          f"{'' if need is None else f' if MemAvailable >= {need:g} GiB'} …", highlight=False)
                # The service starts it and owns it: "ready" only after a real completion; a later death is
                # logged, shown by /readyz and in answers' notes, and restarted once; stopped with the service.
                service.start()
                if service.local_model.running:  # a model left off says why in the service's own warning
                    err.print(service.local_model.message, highlight=False)
        except ServiceError as e:
            app.state.collections.close()
            fail(e.message)
        try:
            err.print(f"Chat page: http://{settings.host}:{settings.port}/   API docs: /docs", highlight=False)
            uvicorn.run(app, host=settings.host, port=settings.port, log_level=log_level,
                        h11_max_incomplete_event_size=H11_MAX_HEAD_BYTES)
        finally:
            app.state.collections.close()  # the local model never outlives the API, also when uvicorn raises
