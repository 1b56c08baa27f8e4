"""The one error type loaders raise for a file they cannot turn into articles."""

from __future__ import annotations


class LoadError(Exception):
    """A whole file could not be loaded.

    The message always names the file and says what to do, because `rag index` shows it to the
    user verbatim (discover.load_paths turns it into a LoadProblem and moves on to the next file).
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
