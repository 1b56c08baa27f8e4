"""`rag mcp`: serve the collection to MCP clients (desktop assistants, agents) over stdio or streamable HTTP.

No `from __future__ import annotations`: typer evaluates the option annotations at registration.
"""

from typing import Annotated, Optional

import typer

from rag.cli.common import CollectionOpt, IndexDirOpt, err, make_settings


def register(app: typer.Typer) -> None:
    @app.command()
    def mcp(
        http: Annotated[bool, typer.Option("--http", help="Serve streamable HTTP at http://HOST:PORT/mcp instead of stdio")] = False,
        host: Annotated[Optional[str], typer.Option(help="Interface for --http (RAG_HOST; default 127.0.0.1)")] = None,
        port: Annotated[int, typer.Option(min=1, max=65535, help="Port for --http")] = 8765,
        allow_writes: Annotated[bool, typer.Option(
            "--allow-writes", help="Also offer add_documents and delete_document (they change the index)")] = False,
        collection: CollectionOpt = None,
        index_dir: IndexDirOpt = None,
        log_level: Annotated[str, typer.Option(help="uvicorn log level for --http")] = "warning",
    ) -> None:
        """Serve search / ask / list_documents / get_document as MCP tools (official MCP Python SDK): every
        collection in the index folder (each tool takes `collection`; the default is RAG_COLLECTION), or only
        the one given with -c."""
        from rag.mcp_server.tools import build_server  # noqa: PLC0415 - heavy, only for this command
        from rag.service.collections import Collections  # noqa: PLC0415

        settings = make_settings(collection, index_dir, host=host)
        collections = Collections(settings, role="query", single=collection is not None)
        service = collections.get()
        if not service.load():  # warm up before the first call; an empty collection still serves (writes fill it)
            err.print(f"[yellow]No index for collection {settings.collection!r} yet;[/] tools answer with advice "
                      "until documents are added.", highlight=False)
        if not collections.single:
            err.print(f"Collections: {', '.join(collections.names())} (default {settings.collection!r}).",
                      highlight=False)
        server = build_server(collections, allow_writes=allow_writes)
        try:
            if not http:
                server.run("stdio")  # stdout carries the protocol: everything else goes to stderr
                return
            import uvicorn  # noqa: PLC0415

            from rag.mcp_server.http import MCP_PATH, http_app  # noqa: PLC0415

            if settings.host not in ("127.0.0.1", "localhost", "::1") and not settings.api_keys:
                err.print("[yellow]Listening beyond localhost without RAG_API_KEYS: anyone who can reach the port "
                          "can use the tools.[/]", highlight=False)
            err.print(f"MCP server: http://{settings.host}:{port}{MCP_PATH}", highlight=False)
            uvicorn.run(http_app(server, settings, port), host=settings.host, port=port, log_level=log_level)
        finally:
            collections.close()
