"""Start-up recovery of `<collection>/uploads/`: a crash never leaves an orphan.

An upload is written beside its final name (`.name.part`), renamed into place (a replaced file is
first copied to `.name.bak`: rag/service/uploads.py), then indexed. A server killed between those steps leaves:
- `.name.part`: a half-written file that never replaced anything -> removed;
- `.name.bak` beside `name`: the index may hold either version -> `name` (what is on disk) is
  re-indexed and the backup removed, so the index matches the disk;
- `name` that the index does not hold (killed before the commit) -> indexed;
- `.staging-*` folders (uploads being parsed) -> removed.
Files that still cannot be indexed stay where they are and are reported (log and /readyz), every
start, until someone removes or fixes them.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from rag.embed.protocols import DocumentEncoder
from rag.pipeline.indexer import index_paths
from rag.settings import Settings
from rag.store.collection import Collection, CollectionNotFound

log = logging.getLogger("rag.service.recovery")


@dataclass
class RecoveryReport:
    indexed: list[str] = field(default_factory=list)  # file names indexed at start
    failed: dict[str, str] = field(default_factory=dict)  # file name -> why it is still not indexed
    removed: list[str] = field(default_factory=list)  # partial files / staging folders cleaned up

    def as_dict(self) -> dict[str, object]:
        return {"indexed": self.indexed, "failed": self.failed, "removed": self.removed}


def _indexed_sources(settings: Settings) -> set[str]:
    try:
        snapshot = Collection(settings.collection_dir).open_snapshot()
    except CollectionNotFound:
        return set()
    try:
        return {d.source for d in snapshot.documents()}
    finally:
        snapshot.close()


def recover_uploads(settings: Settings, embedder: DocumentEncoder | None = None) -> RecoveryReport:
    """Clean up after a crash and index every upload the index does not hold."""
    report = RecoveryReport()
    folder = settings.collection_dir / "uploads"
    if not folder.is_dir():
        return report
    again: list[Path] = []
    for entry in sorted(folder.iterdir()):
        name = entry.name
        if name.startswith(".staging-") and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
            report.removed.append(name)
        elif name.startswith(".") and name.endswith(".part"):
            entry.unlink(missing_ok=True)
            report.removed.append(name)
        elif name.startswith(".") and name.endswith(".bak"):
            original = entry.with_name(name[1:-4])
            if original.exists():
                again.append(original)
                entry.unlink()
            else:  # killed after the backup, before the new file landed: the backup is the file
                os.replace(entry, original)
            report.removed.append(name)
    held = _indexed_sources(settings)
    for entry in sorted(folder.iterdir()):
        if entry.is_file() and not entry.name.startswith(".") and os.path.abspath(entry) not in held:
            again.append(entry)
    todo = sorted(set(again))
    if todo:
        try:
            result = index_paths(todo, settings, progress=False, embedder=embedder)
        except Exception as e:  # noqa: BLE001 - recovery must never keep the server from starting
            for path in todo:
                report.failed[path.name] = f"{type(e).__name__}: {e}"
        else:
            prefix = os.path.abspath(folder) + os.sep  # no server paths in what /readyz shows
            bad = {Path(p.source).name: p.message.replace(prefix, "uploads/") for p in result.problems}
            report.failed.update(bad)
            report.indexed = [p.name for p in todo if p.name not in bad]
    for name in report.indexed:
        log.warning("Recovered upload %s: it was not in the index (the server stopped mid-upload); indexed now.", name)
    for name, why in report.failed.items():
        log.error("Upload %s is in %s but could not be indexed: %s. Remove or fix it.", name, folder, why)
    if report.removed:
        log.warning("Removed leftovers of interrupted uploads: %s", ", ".join(report.removed))
    return report
