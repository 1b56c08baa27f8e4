"""`SearchFilters` semantics shared by every backend (each translates them into its own language)."""

from __future__ import annotations

from rag.models import SearchFilters


def filters_active(filters: SearchFilters | None) -> bool:
    """True when the filters restrict anything (None or all-empty filters mean: everything)."""
    return filters is not None and bool(filters.since or filters.until or filters.source_glob)


def sqlite_glob(pattern: str) -> str:
    """The GLOB a `source_glob` means: a pattern without `*` matches as a substring."""
    return pattern if "*" in pattern else f"*{pattern}*"
