from __future__ import annotations

from pathlib import Path

import pytest

from rag.ingest import html
from rag.ingest.errors import LoadError

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Metro Line 21 Opens</title>
<meta property="article:published_time" content="2024-06-01T09:30:00+08:00">
<style>.x{color:red}</style><script>var secret = "tracking code";</script></head>
<body><header>Site header MENU</header><nav><a href="/">Home</a> | <a href="/news">News</a></nav>
<article><h1>Metro Line 21 Opens</h1>
<p>The new line   links Pudong&nbsp;and the airport.It carries 300,000 riders a day.</p>
<p>Fares start at <b>3</b> yuan.<br>Trains run every 4 minutes.</p>
<ul><li>Stop one</li><li>Stop two</li></ul></article>
<footer>&copy; 2024 City News, all rights reserved</footer></body></html>
"""


def test_html_page(tmp_path: Path) -> None:
    p = tmp_path / "metro.html"
    p.write_text(PAGE, "utf-8")
    (a,) = html.load(p).articles
    assert a.title == "Metro Line 21 Opens"
    assert a.date == "2024-06-01T09:30+08:00"
    assert a.text == (
        "The new line links Pudong and the airport. It carries 300,000 riders a day.\n\n"
        "Fares start at 3 yuan.\nTrains run every 4 minutes.\n\nStop one\n\nStop two"
    )
    for chrome in ("tracking code", "MENU", "Home", "rights reserved", "color:red"):
        assert chrome not in a.text
    assert a.source == str(p) and a.meta["format"] == "html"


def test_title_from_h1_and_date_from_time(tmp_path: Path) -> None:
    p = tmp_path / "page.htm"
    p.write_bytes(
        "<html><body><h1>Caf\u00e9 news</h1><time datetime='2023-07-26'>26 July</time><p>Text.</p></body></html>".encode(
            "latin-1"
        )
    )
    (a,) = html.load(p).articles
    assert (a.title, a.date) == ("Caf\u00e9 news", "2023-07-26")
    assert a.text.endswith("Text.")


def test_title_falls_back_to_stem(tmp_path: Path) -> None:
    p = tmp_path / "untitled-page.html"
    p.write_text("<html><body><p>Only a paragraph.</p></body></html>", "utf-8")
    (a,) = html.load(p).articles
    assert (a.title, a.date, a.text) == ("untitled-page", None, "Only a paragraph.")


def test_script_only_page_is_an_error(tmp_path: Path) -> None:
    p = tmp_path / "app.html"
    p.write_text("<html><head><title>App</title><script>render()</script></head><body></body></html>", "utf-8")
    with pytest.raises(LoadError, match="no visible text"):
        html.load(p)


def test_empty_and_binary(tmp_path: Path) -> None:
    (tmp_path / "e.html").write_bytes(b"  \n")
    with pytest.raises(LoadError, match="is empty"):
        html.load(tmp_path / "e.html")
    (tmp_path / "b.html").write_bytes(b"\x00\x01\x02<html>")
    with pytest.raises(LoadError, match="looks binary"):
        html.load(tmp_path / "b.html")


BOOK_PAGE = """<!DOCTYPE html><html lang="en" class="light sidebar-visible"><head><title>Packages and Crates - The Book</title>
</head><body class="sidebar-visible no-js">
<div id="mdbook-help-container"><div id="mdbook-help-popup"><h2 class="mdbook-help-title">Keyboard shortcuts</h2>
<p>Press <kbd>S</kbd> or <kbd>/</kbd> to search in the book</p></div></div>
<nav id="mdbook-sidebar" class="sidebar" aria-label="Table of contents"><ol><li>1. Getting Started</li></ol></nav>
<div id="mdbook-page-wrapper" class="page-wrapper"><div class="page">
<div id="mdbook-menu-bar" class="menu-bar sticky"><div class="left-buttons">
<button id="mdbook-theme-toggle" type="button">Change theme</button>
<ul id="mdbook-theme-list" class="theme-popup" role="menu"><li role="none"><button role="menuitem">Light</button></li></ul>
</div><h1 class="menu-title">The Book</h1></div>
<div id="mdbook-search-wrapper" class="hidden" hidden><input type="search" placeholder="Search this book ..."></div>
<div id="mdbook-content" class="content"><main>
<h1>Packages and Crates</h1>
<p>A crate is the smallest amount of code that the compiler considers at a time.</p>
<p>Press <kbd>Ctrl</kbd>+<kbd>C</kbd> to stop the program.</p>
<aside class="sidebar-note"><p>Crates can contain modules.</p></aside>
</main></div></div></div></body></html>
"""


def test_page_furniture_is_not_text(tmp_path: Path) -> None:
    """A documentation site's controls and popups (mdBook: keyboard help, theme menu, menu bar, hidden search)
    are no part of a chapter's text, so its first chunk starts with the chapter; content keeps its kbd keys,
    and a class that merely contains a furniture word ("sidebar-note", "sidebar-visible" on <body>) is content."""
    p = tmp_path / "ch07-01.html"
    p.write_text(BOOK_PAGE, "utf-8")
    (a,) = html.load(p).articles
    assert a.text.startswith("Packages and Crates\n\nA crate is the smallest amount of code")
    assert "Press Ctrl + C to stop the program." in a.text or "Press Ctrl+C to stop the program." in a.text
    assert "Crates can contain modules." in a.text
    for chrome in ("Keyboard shortcuts", "search in the book", "Change theme", "Light", "The Book\n",
                   "Getting Started", "Search this book"):
        assert chrome not in a.text, chrome
