"""Turn the paths a user gives into articles: walk folders, dispatch by suffix, skip and report.

Sources: every Article.source is `os.path.abspath(<path as given>/<relative file path>)`. It is
absolute so indexing `data/` from two working directories names the same file the same way
(no duplicate documents), and it is not symlink-resolved (`realpath`) so the path the user sees
is the path they gave. A file reached twice (a folder and a file inside it) is loaded once.

Loader contract: each format module has `load(path, source=None) -> LoadResult`, raising
LoadError when the whole file is unusable; in-file problems come back in `problems`.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import os
import stat
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path

from rag.ingest.errors import LoadError
from rag.ingest.repeats import find_repeats
from rag.ingest.limits import DEFAULT_LIMITS, LoadLimits
from rag.models import Article, LoadProblem, LoadResult

Loader = Callable[..., LoadResult]
# Suffix -> loader module (rag/ingest/<name>.py), imported on first use: bs4, pypdf, openpyxl and
# python-pptx cost ~1 s of every one-shot `rag ask` that never reads a file (python -X importtime).
LOADER_MODULES: dict[str, str] = {
    ".txt": "text",
    ".md": "text",
    ".markdown": "text",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".jsonl": "jsonl",
    ".docx": "office_docx",
    ".pptx": "office_pptx",
    ".xlsx": "office_xlsx",
    ".xz": "xz",  # .txt.xz: one document a line (xz.py refuses other compressed types, saying how to decompress)
}
# Files a documentation folder holds beside its pages: passed over with one summary line, not a
# "convert it" warning each (a real site gave ~250 such warnings, burying the one that mattered).
ASSET_SUFFIXES = frozenset({
    ".css", ".scss", ".less", ".js", ".mjs", ".cjs", ".map", ".ts",
    ".woff", ".woff2", ".ttf", ".otf", ".eot",
    ".png", ".jpg", ".jpeg", ".gif", ".svg", ".ico", ".webp", ".bmp", ".tif", ".tiff", ".avif",
    ".mp3", ".mp4", ".webm", ".ogg", ".wav", ".mov",
})
SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(sorted(LOADER_MODULES))  # the one list of accepted file types
SUPPORTED = ", ".join(".txt.xz" if s == ".xz" else s for s in SUPPORTED_SUFFIXES)


def _hidden(name: str) -> bool:
    return name.startswith(".")


def _walk(root: Path, exclude_hidden: bool, problems: list[LoadProblem]) -> Iterator[Path]:
    """Files under `root` in a deterministic (sorted) order; symlinked folders are not followed."""

    def on_error(err: OSError) -> None:
        where = os.path.abspath(err.filename or root)
        problems.append(LoadProblem(where, f"folder could not be read ({err.strerror}); check its permissions"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=False):
        kept_dirs = []
        for d in sorted(dirnames):
            if exclude_hidden and _hidden(d):
                continue
            full = os.path.join(dirpath, d)
            if os.path.islink(full):  # following links could loop or leave the tree the user named
                problems.append(
                    LoadProblem(os.path.abspath(full), "is a link to a folder and was not followed; pass its target path")
                )
                continue
            kept_dirs.append(d)
        dirnames[:] = kept_dirs
        for f in sorted(filenames):
            if not (exclude_hidden and _hidden(f)):
                yield Path(dirpath, f)


def _check_regular(path: Path, source: str) -> LoadProblem | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return LoadProblem(source, "is a broken link (its target does not exist); fix or remove the link")
    except OSError as e:
        return LoadProblem(source, f"cannot be read ({e.strerror}); check its permissions")
    if not stat.S_ISREG(st.st_mode):
        return LoadProblem(source, "is not a regular file (a pipe, socket or device); skipped, remove it from the folder")
    return None


ZIP_SUFFIXES = frozenset({".docx", ".pptx", ".xlsx"})  # zip archives: unpacked size checked first (limits.py)


def loader_for(suffix: str) -> Loader | None:
    """The `load` function for a (lower-case) file suffix, or None when the type is not supported."""
    name = LOADER_MODULES.get(suffix)
    return None if name is None else importlib.import_module(f"rag.ingest.{name}").load


def _accepts_limits(loader: Loader) -> bool:
    try:
        return "limits" in inspect.signature(loader).parameters
    except (TypeError, ValueError):
        return False


def _load_file(path: Path, source: str, result: LoadResult, limits: LoadLimits = DEFAULT_LIMITS) -> None:
    suffix = path.suffix.lower()
    loader = loader_for(suffix)
    if loader is None and suffix in ASSET_SUFFIXES:
        result.assets.append(source)
        return
    if loader is None:
        what = f"file type '{suffix}'" if suffix else "file without an extension"
        result.problems.append(
            LoadProblem(source, f"unsupported {what}; convert it to one of {SUPPORTED}, or remove it from the folder")
        )
        return
    result.files_seen.append(source)
    problem = _check_regular(path, source)
    if problem is not None:
        result.problems.append(problem)
        return
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        result.problems.append(LoadProblem(
            source, f"is {size:,} bytes, over the limit of {limits.max_file_bytes:,} (RAG_INGEST_MAX_FILE_BYTES); "
            "skipped. Split it, or raise the limit"))
        return
    try:
        if suffix in ZIP_SUFFIXES:
            limits.check_unpacked(path)
        loaded = loader(path, source=source, **({"limits": limits} if _accepts_limits(loader) else {}))
    except LoadError as e:
        result.problems.append(LoadProblem(source, e.message))
        return
    except OSError as e:  # raced with a delete, permission change...
        result.problems.append(LoadProblem(source, f"cannot be read ({e.strerror or e}); check it and re-run"))
        return
    except RecursionError:
        result.problems.append(LoadProblem(source, "is nested too deeply to parse (RAG_INGEST_MAX_DEPTH); skipped"))
        return
    except Exception as e:  # noqa: BLE001 - one hostile file must never stop the run over the good ones
        result.problems.append(LoadProblem(
            source, f"could not be parsed ({type(e).__name__}: {str(e)[:200]}); skipped. Re-save or convert it"))
        return
    result.articles.extend(loaded.articles)
    result.problems.extend(loaded.problems)


def load_paths(paths: Sequence[Path | str], exclude_hidden: bool = True, drop_repeats: bool = True,
               limits: LoadLimits = DEFAULT_LIMITS) -> LoadResult:
    """Load every supported file among `paths` (files or folders, folders walked recursively).

    Unsupported, unreadable, empty and binary files are reported in `problems` and the rest is
    loaded. `files_seen` lists every supported file met, loaded or not, so the indexer knows
    which sources still exist. Hidden files and folders (dot-names) inside walked folders are
    skipped when `exclude_hidden`; a hidden file named explicitly is always loaded.
    Known non-document assets (ASSET_SUFFIXES) are listed in `assets`, not in `problems`. With
    `drop_repeats`, files whose text repeats other files' (copies, print pages) are left out and
    listed in `repeats` (rag.ingest.repeats); they stay in `files_seen`, so their old documents go.
    A path that does not exist raises FileNotFoundError.
    """
    result = LoadResult()
    seen: set[str] = set()
    for given in map(Path, paths):
        if not given.exists():
            hint = " (it is a broken link)" if given.is_symlink() else ""
            raise FileNotFoundError(
                f"{given} does not exist{hint} (looked at {os.path.abspath(given)}); "
                f"check the spelling, or pass a folder or a file of type {SUPPORTED}"
            )
        files = _walk(given, exclude_hidden, result.problems) if given.is_dir() else iter([given])
        for path in files:
            source = os.path.abspath(path)
            if source in seen:
                continue
            seen.add(source)
            _load_file(path, source, result, limits)
    result.articles = infer_folder_years(result.articles)
    if drop_repeats:
        result.repeats = find_repeats(result.articles)
        dropped = {p.source for p in result.repeats}
        result.articles = [a for a in result.articles if a.source not in dropped]
    return result


def infer_folder_years(articles: list[Article]) -> list[Article]:
    """A news article alone in its .txt file whose date lacks a year took the file's modification year
    (zh_news.py); a folder of such articles knows better: the year most of its dated articles carry.
    Only dates marked meta["date_inferred"] == "year" change; ids do not depend on dates."""
    years: dict[str, Counter[int]] = defaultdict(Counter)
    for a in articles:
        if a.meta.get("format") == "zh-news" and "line" not in a.meta and a.date and "date_inferred" not in a.meta:
            years[os.path.dirname(a.source)][int(a.date[:4])] += 1
    if not years:
        return articles
    out = []
    for a in articles:
        counts = years.get(os.path.dirname(a.source))
        if counts and a.meta.get("date_inferred") == "year" and a.date and "line" not in a.meta:
            year = max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0]
            try:
                date.fromisoformat(f"{year:04d}{a.date[4:10]}")  # 02-29 only in leap years
            except ValueError:
                year = int(a.date[:4])
            a = dataclasses.replace(a, date=f"{year:04d}{a.date[4:]}")
        out.append(a)
    return out


def load_file(path: Path, source: str, limits: LoadLimits = DEFAULT_LIMITS) -> LoadResult:
    """One file read as if it were at `source` (an upload parsed before it is moved into place)."""
    result = LoadResult()
    _load_file(Path(path), source, result, limits)
    return result
