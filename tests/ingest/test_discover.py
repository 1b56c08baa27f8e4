from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from rag.ingest.discover import load_paths


@pytest.fixture
def mixed_folder(tmp_path: Path, make_pdf: Callable[..., Path]) -> Path:
    root = tmp_path / "docs"
    (root / "sub").mkdir(parents=True)
    (root / ".hidden").mkdir()
    (root / "a.txt").write_text("Alpha title\n\nAlpha body text.\n", "utf-8")
    (root / "b.md").write_text("# Beta\n\nBeta body.\n", "utf-8")
    (root / "sub" / "c.html").write_text("<title>Gamma</title><p>Gamma body.</p>", "utf-8")
    make_pdf(root / "sub" / "d.PDF", [["Delta page one."]])
    (root / "sub" / "e.jsonl").write_text(json.dumps({"id": "e1", "text": "Epsilon."}) + "\n{bad\n", "utf-8")
    (root / "legacy.txt").write_bytes("Legacy caf\u00e9\n\nWritten in cp1252 \u2013 still text.\n".encode("cp1252"))
    (root / "empty.txt").write_bytes(b"")
    (root / "binary.md").write_bytes(b"\x00\x01\x02\x03garbage")
    (root / "notes.rtf").write_bytes(b"{\\rtf1 not a supported format}")
    (root / "notes.docx").write_bytes(b"PK\x03\x04")  # a supported type, but a broken file
    (root / "README").write_text("no extension", "utf-8")
    (root / ".secret.txt").write_text("Hidden title\n\nHidden body.\n", "utf-8")
    (root / ".hidden" / "h.txt").write_text("Hidden folder\n\nbody\n", "utf-8")
    (root / "broken.txt").symlink_to(root / "missing-target.txt")
    os.mkfifo(root / "pipe.txt")
    (root / "folder.txt").mkdir()  # a folder with a file-like name is walked, not read
    (root / "folder.txt" / "inner.md").write_text("Inner\n\nInner body.\n", "utf-8")
    return root


def test_mixed_folder_loads_good_files_and_reports_the_rest(mixed_folder: Path) -> None:
    result = load_paths([mixed_folder])
    root = os.path.abspath(mixed_folder)
    titles = sorted(a.title for a in result.articles)
    assert titles == ["", "Alpha title", "Beta", "Gamma", "Inner", "Legacy caf\u00e9", "d"]
    assert all(os.path.isabs(a.source) for a in result.articles)

    problems = {os.path.relpath(p.source, root): p.message for p in result.problems}
    assert set(problems) == {
        "sub/e.jsonl", "empty.txt", "binary.md", "notes.rtf", "notes.docx", "README", "broken.txt", "pipe.txt"
    }  # fmt: skip
    assert "not valid JSON" in problems["sub/e.jsonl"]
    assert "is empty" in problems["empty.txt"]
    assert "looks binary" in problems["binary.md"]
    assert "unsupported file type '.rtf'" in problems["notes.rtf"] and "convert" in problems["notes.rtf"]
    assert "not a readable Word .docx file" in problems["notes.docx"] and "re-save" in problems["notes.docx"]
    assert "without an extension" in problems["README"]
    assert "broken link" in problems["broken.txt"]
    assert "not a regular file" in problems["pipe.txt"]

    seen = [os.path.relpath(s, root) for s in result.files_seen]
    assert seen == [
        "a.txt", "b.md", "binary.md", "broken.txt", "empty.txt", "legacy.txt", "notes.docx", "pipe.txt",
        "folder.txt/inner.md", "sub/c.html", "sub/d.PDF", "sub/e.jsonl",
    ]  # fmt: skip
    legacy = next(a for a in result.articles if a.title.startswith("Legacy"))
    assert legacy.meta["encoding"] == "cp1252"


def test_hidden_files(mixed_folder: Path) -> None:
    with_hidden = load_paths([mixed_folder], exclude_hidden=False)
    assert {"Hidden title", "Hidden folder"} <= {a.title for a in with_hidden.articles}
    explicit = load_paths([mixed_folder / ".secret.txt"])
    assert [a.title for a in explicit.articles] == ["Hidden title"]


def test_sources_are_absolute_whatever_the_cwd(mixed_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(mixed_folder)
    rel = load_paths([Path("a.txt"), Path(".")])
    monkeypatch.chdir(mixed_folder / "sub")
    up = load_paths([Path("../a.txt")])
    assert rel.articles[0].source == up.articles[0].source == str(mixed_folder / "a.txt")
    assert [a.source for a in rel.articles].count(str(mixed_folder / "a.txt")) == 1  # loaded once


def test_deterministic_order(mixed_folder: Path) -> None:
    first = load_paths([mixed_folder])
    second = load_paths([mixed_folder])
    assert [a.doc_id for a in first.articles] == [a.doc_id for a in second.articles]


def test_missing_path_raises_with_advice(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist.*check the spelling"):
        load_paths([tmp_path / "nope"])
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    with pytest.raises(FileNotFoundError, match="broken link"):
        load_paths([tmp_path / "dangling"])


def test_linked_folder_is_reported_not_followed(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "r.txt").write_text("Real\n\nReal body.\n", "utf-8")
    top = tmp_path / "top"
    top.mkdir()
    (top / "loop").symlink_to(top)
    (top / "link").symlink_to(real)
    result = load_paths([top])
    assert result.articles == []
    assert sorted(os.path.basename(p.source) for p in result.problems) == ["link", "loop"]
    assert all("not followed" in p.message for p in result.problems)
