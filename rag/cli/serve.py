"""`rag serve`: the HTTP API and chat page (api/), run by uvicorn.

No `from __future__ import annotations` here: typer evaluates the option annotations, which are
imported inside register() to avoid an import cycle with rag.cli.main.
"""


from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    from rag.cli.main import CollectionOpt, IndexDirOpt, err, make_settings  # noqa: PLC0415 - avoid a cycle

    @app.command()
    def serve(
        host: Annotated[Optional[str], typer.Option(help="Interface to bind (RAG_HOST)")] = None,
        port: Annotated[Optional[int], typer.Option(min=1, max=65535, help="Port (RAG_PORT)")] = None,
        collection: CollectionOpt = None,
        index_dir: IndexDirOpt = None,
        log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
    ) -> None:
        """Serve the HTTP API (/docs) and the chat page (/)."""
        import uvicorn  # noqa: PLC0415 - heavy, only for this command

        from api.app import create_app  # noqa: PLC0415

        settings = make_settings(collection, index_dir, host=host, port=port)
        if not settings.collection_dir.exists():
            err.print(f"[yellow]No index at {settings.collection_dir} yet;[/] the server starts anyway: "
                      "add documents with POST /v1/documents or `rag index PATH`.", highlight=False)
        if settings.host not in ("127.0.0.1", "localhost", "::1") and not settings.api_keys:
            err.print("[yellow]Listening beyond localhost without RAG_API_KEYS: anyone who can reach the port "
                      "can query and change the index.[/]", highlight=False)
        err.print(f"Chat page: http://{settings.host}:{settings.port}/   API docs: /docs", highlight=False)
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level=log_level)

