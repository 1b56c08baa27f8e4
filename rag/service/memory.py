"""Keeping a long-running server's memory flat on glibc (Linux): fewer malloc arenas, and free pages
handed back after each write.

Measured with eval/bench/memprobe.py under the soak (20 clients + a writer, README "Memory under
load"): Python objects stayed flat (tracemalloc), while memory glibc held *free* inside its heaps grew
from ~40 to ~410 MiB across 16 arenas (one per busy thread, up to 8 per core): each generation
switch frees an index's worth of blocks in whichever arenas the request threads happened to use, and
glibc keeps them. Two arenas and a trim after each write keep that bounded.

Both are no-ops where the C library is not glibc (musl, macOS, Windows).
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os

log = logging.getLogger("rag.memory")
M_ARENA_MAX = -8  # mallopt parameter number (glibc malloc.h)
DEFAULT_ARENAS = 2  # what MALLOC_ARENA_MAX would say; the environment variable wins when set


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018 - present only in glibc
        return libc
    except (OSError, AttributeError):
        return None


def limit_malloc_arenas(arenas: int = DEFAULT_ARENAS) -> bool:
    """Cap glibc's malloc arenas for threads started from now on (call before the server's threads start).

    Left alone when MALLOC_ARENA_MAX is set (glibc read it at start-up: the operator chose)."""
    libc = _glibc()
    if libc is None or os.environ.get("MALLOC_ARENA_MAX"):
        return False
    return bool(libc.mallopt(M_ARENA_MAX, arenas))


def trim() -> None:
    """Give free pages inside glibc's heaps back to the kernel (milliseconds; after a write)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
