"""Uploaded files: safe names, per-file checks, saving under `<collection>/uploads/` with rollback.

Uploads are kept so a later `rag index` run (or a rebuild) sees the same files. Every file is
judged on its own: an unsupported, empty, oversized or duplicate-named file is skipped with a
reason and the others go on.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from rag.files import atomic_write
from rag.ingest.discover import SUPPORTED, SUPPORTED_SUFFIXES
from rag.ingest.dates import iso_day
from rag.service.records import FileResult, FileStatus

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME_CHARS = 120  # keeps the saved path well under every file system's limit


@dataclass(frozen=True)
class UploadedFile:
    name: str  # as the client named it (never trusted as a path)
    data: bytes
    label: str | None = None  # what results call it when the name was made for it (a text document)

    @property
    def shown(self) -> str:
        return self.label or self.name


def safe_name(filename: str) -> str:
    """A file name that cannot escape uploads/ or be hidden: 'a/../b c.txt' -> 'b_c.txt'."""
    base = os.path.basename(filename.replace("\\", "/")).strip()
    base = _SAFE_NAME.sub("_", base).lstrip("._-")
    return base[:MAX_NAME_CHARS]


def text_document(text: str, title: str = "", date: str | None = None, name: str | None = None) -> UploadedFile:
    """A document given as text (API JSON, MCP) becomes a one-record .jsonl upload, named by its content."""
    if not text.strip():
        raise ValueError("the text is empty")
    date = iso_day(date, "date")
    digest = hashlib.sha256(f"{title}\0{text}".encode()).hexdigest()[:12]
    stem = safe_name(name or title or "text")[:60].rsplit(".", 1)[0] or "text"
    record = {"id": digest, "title": title, "text": text, **({"date": date} if date else {})}
    return UploadedFile(f"{stem}-{digest}.jsonl", (json.dumps(record, ensure_ascii=False) + "\n").encode(),
                        label=name or title or None)


def skipped(name: str, code: str, reason: str) -> FileResult:
    return FileResult(name=name, status=FileStatus.skipped, code=code, reason=reason)


def screen(files: list[UploadedFile], max_bytes: int) -> tuple[list[tuple[UploadedFile, str]], list[FileResult | None]]:
    """Split uploads into (file, safe name) to index and per-file results for the ones skipped now.

    Returns the accepted files and a list aligned with `files`: a FileResult for each skipped
    file, None for each accepted one (filled in after indexing).
    """
    accepted: list[tuple[UploadedFile, str]] = []
    results: list[FileResult | None] = []
    names: set[str] = set()
    for f in files:
        name = safe_name(f.name)
        suffix = Path(name).suffix.lower()
        if not name or suffix not in SUPPORTED_SUFFIXES:
            what = f"file type {suffix!r}" if suffix else "file without an extension"
            results.append(skipped(f.shown, "unsupported_file_type",
                                   f"unsupported {what}; upload one of {SUPPORTED}, or convert it first"))
        elif len(f.data) > max_bytes:
            results.append(skipped(f.shown, "payload_too_large", f"larger than {max_bytes} bytes; split it"))
        elif not f.data.strip():
            results.append(skipped(f.shown, "empty_file", "the file is empty; nothing to index"))
        elif name in names:
            results.append(skipped(f.shown, "duplicate_name",
                                   f"another file in this upload is also saved as {name!r}; rename one"))
        else:
            names.add(name)
            accepted.append((f, name))
            results.append(None)
    return accepted, results


class SavedUploads:
    """Files written into uploads/, with backups of the ones they replaced, until keep() or rollback()."""

    def __init__(self, folder: Path, files: list[tuple[UploadedFile, str]]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.paths = [folder / name for _, name in files]
        self._backups: dict[Path, Path] = {}
        for path, (f, _) in zip(self.paths, files):
            if path.exists():
                self._backups[path] = path.with_name(f".{path.name}.bak")
                shutil.copy2(path, self._backups[path])
            atomic_write(path, f.data)

    def restore(self, path: Path) -> None:
        """Put back the file `path` replaced, or remove it when it was new: disk must match the index."""
        if path in self._backups:
            os.replace(self._backups.pop(path), path)
        else:
            path.unlink(missing_ok=True)

    def rollback(self) -> None:
        for path in self.paths:
            self.restore(path)

    def close(self) -> None:
        for backup in self._backups.values():
            backup.unlink(missing_ok=True)
        self._backups.clear()
