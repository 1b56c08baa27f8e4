"""The split-file format: one query id per line, `#` comments, and a `# qrels: <name>` line naming the
qrels/<name>.tsv the ids come from. `rag eval --dataset beir --split FILE` scores exactly those queries
(eval/adapters/beir.py reads the file); eval/splits.py drew the committed SciFact parts.
"""

from __future__ import annotations

from pathlib import Path

from eval.adapters.base import DatasetError

QRELS_MARK = "# qrels:"


def read_split_file(path: Path) -> tuple[list[str], str | None]:
    """(query ids in file order, the qrels split named by a `# qrels: NAME` line or None)."""
    if not path.is_file():
        raise DatasetError(f"split file {path} not found: give a qrels split name (e.g. train) "
                           "or a file of query ids, one per line")
    ids: list[str] = []
    qrels: str | None = None
    seen: set[str] = set()
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if line.startswith(QRELS_MARK):
            qrels = line[len(QRELS_MARK):].strip() or None
            continue
        if not line or line.startswith("#"):
            continue
        if any(c.isspace() for c in line):
            raise DatasetError(f"{path}:{lineno}: expected one query id per line, got {line!r}")
        if line in seen:
            raise DatasetError(f"{path}:{lineno}: query id {line!r} appears twice")
        seen.add(line)
        ids.append(line)
    if not ids:
        raise DatasetError(f"split file {path} holds no query ids (one per line; '#' starts a comment)")
    return ids, qrels


def write_split_file(path: Path, ids: list[str], qrels: str, title: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = f"# {title}\n{QRELS_MARK} {qrels}\n"
    path.write_text(header + "".join(f"{q}\n" for q in ids), encoding="utf-8")
