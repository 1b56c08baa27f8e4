"""Bytes -> str for the text-based loaders, refusing binary files instead of indexing garbage."""

from __future__ import annotations

import codecs
from pathlib import Path

from rag.ingest.errors import LoadError

_SNIFF_BYTES = 8192
_MAX_CONTROL_RATIO = 0.01  # real text has essentially no control characters besides \t \n \r \f
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: its BOM starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def read_bytes(path: Path) -> bytes:
    """The file's bytes, or LoadError saying why it cannot be read and what to do."""
    try:
        return path.read_bytes()
    except IsADirectoryError as e:
        raise LoadError(f"{path} is a folder, not a file; pass the folder itself to index everything in it") from e
    except PermissionError as e:
        raise LoadError(f"{path} cannot be read (permission denied); fix its permissions or skip it") from e
    except OSError as e:
        raise LoadError(f"{path} cannot be read ({e.strerror or e}); check that it exists and is a regular file") from e


def control_ratio(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for c in text if (ord(c) < 32 and c not in "\t\n\r\f") or 0x7F <= ord(c) <= 0x9F)
    return bad / len(text)


def _binary(path: Path) -> LoadError:
    return LoadError(
        f"{path} looks binary, not text (NUL bytes or control characters); "
        "convert it to UTF-8 text, PDF or HTML, or remove it from the folder"
    )


def decode_text(data: bytes, path: Path) -> tuple[str, str]:
    """(text, encoding name). UTF-8 (BOM optional) and BOM-marked UTF-16/32 are read as such;
    other bytes fall back to cp1252, then latin-1, only if the result reads as text."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name), name
            except UnicodeDecodeError as e:
                raise LoadError(f"{path} starts with a {name} byte-order mark but is not valid {name}: {e}") from e
    if b"\0" in data[:_SNIFF_BYTES]:
        raise _binary(path)
    try:
        text, encoding = data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        try:  # cp1252 leaves 5 byte values undefined; latin-1 decodes anything
            text, encoding = data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            text, encoding = data.decode("latin-1"), "latin-1"
    if control_ratio(text[:_SNIFF_BYTES * 4]) > _MAX_CONTROL_RATIO:
        raise _binary(path)
    return text, encoding


def read_text(path: Path) -> tuple[str, str]:
    """Decoded text of a file and the encoding used; LoadError if empty, binary or unreadable."""
    data = read_bytes(path)
    if not data.strip():
        raise LoadError(f"{path} is empty (no text); add content or remove the file")
    text, encoding = decode_text(data, path)
    if not text.strip():
        raise LoadError(f"{path} is empty (only whitespace); add content or remove the file")
    return text, encoding
