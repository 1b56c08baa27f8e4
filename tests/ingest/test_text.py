from __future__ import annotations

from pathlib import Path

import pytest

from rag.ingest import text
from rag.ingest.errors import LoadError


def test_markdown_title_from_heading(tmp_path: Path) -> None:
    p = tmp_path / "guide.md"
    p.write_text("# Guide to Filing\n\nSome intro text here.\n\n## Step one\n\nDo this \u201cfirst\u201d.\n", "utf-8")
    (a,) = text.load(p).articles
    assert a.title == "Guide to Filing"
    assert a.text == 'Some intro text here.\n\nStep one\n\nDo this "first".'  # rendered: no "##" markup
    assert a.source == str(p) and a.span == (0, len(p.read_text("utf-8")))
    assert a.meta["format"] == "markdown"


def test_markdown_readme_is_read_as_rendered_text(tmp_path: Path) -> None:
    """A README as projects write them: a logo and badges in inline HTML, links, a paragraph wrapped over
    lines, a table, a code block, and the first heading halfway down ("## Sponsors" is no title)."""
    p = tmp_path / "toolkit.md"
    p.write_text(
        '<p align="center"><img src="logo.png" alt="Toolkit"></p>\n\n'
        "[![Downloads](https://img.example/badge.svg)](https://pepy.example/toolkit)\n\n"
        "Toolkit is a *fast* library for\nparsing [PDF files](https://docs.example/pdf) in pure Python.\n\n"
        "## Sponsors\n\nThanks to <i>Acme</i>.\n\n"
        "| option | default |\n|---|---|\n| strict | off |\n\n"
        "```python\nimport toolkit\n```\n", "utf-8")
    (a,) = text.load(p).articles
    assert a.title == "toolkit"  # no leading heading, no level-1 heading, first paragraph is a sentence
    assert a.text.startswith("Toolkit is a fast library for parsing PDF files in pure Python.\n\nSponsors\n\n")
    assert "Thanks to Acme." in a.text and "strict off" in a.text and "import toolkit" in a.text
    for markup in ("](", "![", "<i>", "<p", "**", "|", "```"):
        assert markup not in a.text, markup
    assert a.meta["format"] == "markdown"


def test_markdown_heading_later_in_file(tmp_path: Path) -> None:
    p = tmp_path / "notes.markdown"
    p.write_text("Intro paragraph that is a full sentence, long enough.\n\n# Real Title\n\nBody.\n", "utf-8")
    (a,) = text.load(p).articles
    assert a.title == "Real Title"
    assert a.text.startswith("Intro paragraph")


def test_text_title_from_short_first_line_else_stem(tmp_path: Path) -> None:
    p = tmp_path / "memo.txt"
    p.write_text("Budget memo\n\nThe budget grew by 3.5% this year.\n", "utf-8")
    (a,) = text.load(p).articles
    assert (a.title, a.text) == ("Budget memo", "The budget grew by 3.5% this year.")
    q = tmp_path / "long-first-line.txt"
    q.write_text("This first line is a sentence, so it is not a title.\nSecond line.\n", "utf-8")
    (b,) = text.load(q).articles
    assert b.title == "long-first-line"
    assert b.text == "This first line is a sentence, so it is not a title.\nSecond line."


def test_utf8_bom_and_crlf(tmp_path: Path) -> None:
    p = tmp_path / "bom.txt"
    p.write_bytes("\ufeffTitle line\r\n\r\nBody text with caf\u00e9.\r\n".encode("utf-8"))
    (a,) = text.load(p).articles
    assert (a.title, a.text, a.meta["encoding"]) == ("Title line", "Body text with caf\u00e9.", "utf-8-sig")


def test_utf16_with_bom(tmp_path: Path) -> None:
    p = tmp_path / "wide.txt"
    p.write_bytes("Wide title\n\nNotepad saved this as UTF-16.\n".encode("utf-16"))
    (a,) = text.load(p).articles
    assert (a.title, a.meta["encoding"]) == ("Wide title", "utf-16")


def test_cp1252_fallback_is_recorded(tmp_path: Path) -> None:
    p = tmp_path / "legacy.txt"
    p.write_bytes("Caf\u00e9 report\n\nThe caf\u00e9 served \u201cdaily\u201d specials \u2013 20 of them.\n".encode("cp1252"))
    (a,) = text.load(p).articles
    assert a.meta["encoding"] == "cp1252"
    assert a.title == "Caf\u00e9 report"
    assert a.text == 'The caf\u00e9 served "daily" specials \u2013 20 of them.'


@pytest.mark.parametrize("content", [b"", b"   \n\t\n", "\ufeff".encode("utf-8") + b"\n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    p = tmp_path / "empty.txt"
    p.write_bytes(content)
    with pytest.raises(LoadError, match="is empty"):
        text.load(p)


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",  # NUL bytes
        bytes(range(1, 32)) * 20 + b"some words",  # control characters, no NUL
    ],
)
def test_binary_file(tmp_path: Path, content: bytes) -> None:
    p = tmp_path / "image.txt"
    p.write_bytes(content)
    with pytest.raises(LoadError, match="looks binary"):
        text.load(p)


def test_folder_named_like_a_file(tmp_path: Path) -> None:
    (tmp_path / "x.txt").mkdir()
    with pytest.raises(LoadError, match="is a folder"):
        text.load(tmp_path / "x.txt")


def test_press_release_file_goes_to_the_splitter(tmp_path: Path) -> None:
    p = tmp_path / "news.txt"
    p.write_text(
        "Title one of the day\nRelease time:May 09, 2024 16:30 PM\nBody one.\n"
        "Title two of the day | Tag\nTitle two of the day | Tag\nBody two.\n",
        "utf-8",
    )
    got = text.load(p).articles
    assert [(a.title, a.date, a.tags, a.text) for a in got] == [
        ("Title one of the day", "2024-05-09T16:30", (), "Body one."),
        ("Title two of the day", None, ("Tag",), "Body two."),
    ]
    assert all(a.meta["encoding"] == "utf-8" and a.source == str(p) for a in got)


def test_markdown_with_deeply_nested_html_is_refused_before_parsing(tmp_path: Path) -> None:
    """Inline HTML passes through the Markdown renderer: 50,000 nested <div>s took 270 s to read before the
    depth bound (then the parse deadline refused them); now the depth bound refuses them before parsing."""
    p = tmp_path / "deep.md"
    p.write_text("# Deep\n\n" + "<div>" * 50_000 + "text" + "</div>" * 50_000 + "\n", "utf-8")
    with pytest.raises(LoadError, match="RAG_INGEST_MAX_DEPTH"):  # not the deadline's "took longer than"
        text.load(p)


def test_markdown_nesting_is_read_or_refused_never_cut(tmp_path: Path) -> None:
    """Forty nested list levels are all read (CommonMark's default bound dropped the 10th on); nesting past the
    renderer's bound is refused with what to do, instead of losing the deeper text without a word."""
    p = tmp_path / "outline.md"
    p.write_text("# Outline\n\n" + "".join("  " * i + f"- level {i}\n" for i in range(40)), "utf-8")
    (a,) = text.load(p).articles
    assert all(f"level {i}" in a.text for i in range(40))
    q = tmp_path / "quotes.md"
    q.write_text("# Quotes\n\n" + ">" * 10_000 + " deep\n", "utf-8")
    with pytest.raises(LoadError, match="nested .* save the file as .txt"):
        text.load(q)
