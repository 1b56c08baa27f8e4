"""Run the app on a real uvicorn server in a background thread (tests, benchmarks, demos)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from starlette.types import ASGIApp

from rag.net import free_port
from rag.web.guard import H11_MAX_HEAD_BYTES


@contextmanager
def live_server(app: FastAPI | ASGIApp, host: str = "127.0.0.1", startup_timeout_s: float = 120.0,
                port: int | None = None) -> Iterator[str]:
    """Yield the base URL of `app` served by uvicorn (on a free port unless given); stop the server on exit."""
    port = port or free_port(host)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on",
                                           h11_max_incomplete_event_size=H11_MAX_HEAD_BYTES))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout_s
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn exited during startup; see the log above")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise TimeoutError(f"uvicorn did not start within {startup_timeout_s} s")
        time.sleep(0.05)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
