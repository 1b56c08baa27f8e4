"""Atomic file writes: the one write-to-temp-then-rename helper every writer uses.

A reader (or a crash) sees the old file or the new one, never half of one: the bytes go to a
temporary sibling, are fsynced, then `os.replace` swaps it in (atomic on POSIX and Windows).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: Path, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary sibling to write (by any means); on success fsync it and rename it over `path`.

    On an exception the temporary file is removed and `path` is untouched.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}{suffix}" if not path.name.startswith(".") else f"{path.name}{suffix}")
    try:
        yield tmp
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(path: Path, data: bytes | str, encoding: str = "utf-8") -> None:
    """Write `data` (bytes, or text in `encoding`) to `path` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.encode(encoding) if isinstance(data, str) else data)
