"""Running an async MCP client from a synchronous test."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

T = TypeVar("T")


def run_async(main: Callable[[], Awaitable[T]]) -> T:
    """anyio.run in its own thread: Playwright's sync API (browser tests, same session) keeps a loop running
    in the test's thread. The client's result is returned, its exception re-raised here."""
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(anyio.run(main))
        except BaseException as e:  # noqa: BLE001 - re-raised in the test's thread
            failure.append(e)

    thread = threading.Thread(target=target, name="mcp-client")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]
