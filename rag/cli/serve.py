"""`rag serve`: the HTTP API and chat page (api/), run by uvicorn.

No `from __future__ import annotations` here: typer evaluates the option annotations, which are
imported inside register() to avoid an import cycle with rag.cli.main.
"""


from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    from rag.cli.main import CollectionOpt, IndexDirOpt, err, fail, make_settings  # noqa: PLC0415 - avoid a cycle

    @app.command()
    def serve(
        host: Annotated[Optional[str], typer.Option(help="Interface to bind (RAG_HOST)")] = None,
        port: Annotated[Optional[int], typer.Option(min=1, max=65535, help="Port (RAG_PORT)")] = None,
        collection: CollectionOpt = None,
        index_dir: IndexDirOpt = None,
        log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
        local_llm: Annotated[Optional[bool], typer.Option(
            "--local-llm/--no-local-llm",
            help="Start the bundled llama.cpp model (SmolLM2-135M) on 127.0.0.1 and answer with it (RAG_LOCAL_LLM)")] = None,
    ) -> None:
        """Serve the HTTP API (/docs) and the chat page (/)."""
        import uvicorn  # noqa: PLC0415 - heavy, only for this command

        from api.app import create_app  # noqa: PLC0415
        from api.security import H11_MAX_HEAD_BYTES  # noqa: PLC0415

        from rag.service.memory import limit_malloc_arenas  # noqa: PLC0415

        limit_malloc_arenas()  # before the server's threads start (rag/service/memory.py says why)
        settings = make_settings(collection, index_dir, host=host, port=port)
        if not settings.collection_dir.exists():
            err.print(f"[yellow]No index at {settings.collection_dir} yet;[/] the server starts anyway: "
                      "add documents with POST /v1/documents or `rag index PATH`.", highlight=False)
        if settings.host not in ("127.0.0.1", "localhost", "::1") and not settings.api_keys:
            err.print("[yellow]Listening beyond localhost without RAG_API_KEYS: anyone who can reach the port "
                      "can query and change the index.[/]", highlight=False)
        if local_llm is not None:
            settings = settings.model_copy(update={"local_llm": local_llm})
        if not settings.local_llm:
            err.print(f"Chat page: http://{settings.host}:{settings.port}/   API docs: /docs", highlight=False)
            uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level=log_level,
                        h11_max_incomplete_event_size=H11_MAX_HEAD_BYTES)
            return
        from rag.answer.local_llm import supervised_local_llm  # noqa: PLC0415
        from rag.answer.local_server import LocalLLMStartError, LocalLLMUnavailable  # noqa: PLC0415

        err.print(f"Starting the local model on 127.0.0.1:{settings.local_llm_port} …", highlight=False)
        try:
            # The model server lives exactly as long as the API: stopped when uvicorn returns or raises.
            # "Ready" is printed only after it answered a real completion; a later death is logged,
            # shown by /readyz and in answers' notes, and restarted once (LocalLLMSupervisor).
            with supervised_local_llm(settings) as (local, supervisor):
                err.print(f"Local model ready at {local.llm_base_url} (answered a test completion; answer mode "
                          f"auto = {local.auto_mode}). Chat page: http://{settings.host}:{settings.port}/   "
                          "API docs: /docs", highlight=False)
                uvicorn.run(create_app(local, local_llm=supervisor), host=local.host, port=local.port,
                            log_level=log_level, h11_max_incomplete_event_size=H11_MAX_HEAD_BYTES)
        except (LocalLLMUnavailable, LocalLLMStartError) as e:
            fail(str(e))

