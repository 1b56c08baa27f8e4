"""Loader for .html / .htm: visible text of the page, paragraphs kept, chrome dropped.

Contract as in text.py: `load(path, source=None, limits=...) -> LoadResult`, LoadError for unusable
files; pages nested deeper than limits.max_depth are refused before parsing (rag/ingest/limits.py).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from bs4 import BeautifulSoup, Tag, UnicodeDammit

from rag.ingest.dates import parse_date
from rag.ingest.decode import control_ratio, read_bytes
from rag.ingest.errors import LoadError
from rag.ingest.limits import DEFAULT_LIMITS, LoadLimits, html_depth
from rag.ingest.normalize import normalize_text
from rag.models import Article, LoadResult

# Page chrome and non-text: navigation and footers would otherwise be indexed once per page.
_DROP = ["script", "style", "nav", "header", "footer", "noscript", "template", "svg", "iframe", "object"]
_BLOCKS = [
    "p", "div", "section", "article", "main", "aside", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol",
    "dl", "dt", "dd", "table", "tr", "blockquote", "pre", "figure", "figcaption", "address", "hr", "form",
]  # fmt: skip
_CELLS = ["td", "th"]
# Controls and page furniture that HTML marks as such: a button's label ("Auto", "Light", "Rust": mdBook's theme
# menu), an ARIA landmark or widget that is not content, and what the page hides.
_CONTROLS = ["button", "select", "option", "input", "textarea", "dialog"]
_CHROME_ROLES = frozenset({"menu", "menubar", "toolbar", "dialog", "alertdialog", "navigation", "search", "banner",
                           "contentinfo", "tablist", "tooltip"})
# Class names and id words that name furniture ("mdbook-help-popup", class "menu-bar sticky"): the keyboard-help
# popup and menu bar of a mdBook site opened every page's first chunk ("Keyboard shortcuts Press ← or → to
# navigate ... Auto Light Rust Coal Navy Ayu"), so the chunk that defines a chapter's subject ranked low. A class
# counts whole ("sidebar-visible" on <html> is a state, not furniture); the page's own containers never count.
_CHROME_ID_WORDS = frozenset({"popup", "modal", "toolbar", "menubar", "sidebar", "breadcrumb", "breadcrumbs"})
_CHROME_CLASSES = _CHROME_ID_WORDS | {"menu-bar", "cookie-banner"}  # a class is matched whole, so compounds too
_CONTAINERS = frozenset({"html", "body", "main", "article"})
_WORD_SPLIT = re.compile(r"[-_\s]+")
_DATE_META = ("article:published_time", "og:published_time", "datepublished", "date", "pubdate", "publishdate",
              "dc.date", "dc.date.issued", "dcterms.date", "dcterms.created")  # fmt: skip
_HTML_SPACE = re.compile(r"[ \t\r\n\f\v]+")  # HTML whitespace; <br> is turned into U+2028 and survives
_PARAGRAPHS = re.compile(r"\n\s*\n")


def _title(soup: BeautifulSoup) -> str:
    for tag in (soup.title, soup.find("h1")):
        if isinstance(tag, Tag):
            text = normalize_text(_HTML_SPACE.sub(" ", tag.get_text(" ")))
            if text:
                return text
    return ""


def _date(soup: BeautifulSoup) -> str | None:
    for meta in soup.find_all("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if key in _DATE_META and meta.get("content"):
            found = parse_date(str(meta["content"]))
            if found:
                return found
    for time in soup.find_all("time"):
        found = parse_date(str(time.get("datetime") or time.get_text()))
        if found:
            return found
    return None


def _is_chrome(tag: Tag) -> bool:
    """Page furniture the markup names: hidden, a non-content ARIA role, or a furniture class or id word."""
    if tag.name in _CONTAINERS:
        return False
    attrs = tag.attrs
    if "hidden" in attrs or str(attrs.get("aria-hidden", "")).lower() == "true":
        return True
    if str(attrs.get("role", "")).lower() in _CHROME_ROLES:
        return True
    classes = {str(c).lower() for c in attrs.get("class") or []}
    id_words = set(_WORD_SPLIT.split(str(attrs.get("id", "")).lower()))
    return bool(classes & _CHROME_CLASSES or id_words & _CHROME_ID_WORDS)


def visible_text(soup: BeautifulSoup) -> str:
    """The page's visible text: one paragraph per block element, whitespace collapsed, chrome dropped."""
    for tag in soup(_DROP + _CONTROLS):
        tag.decompose()
    for tag in soup.find_all(_is_chrome):
        if not tag.decomposed:
            tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\u2028")
    for tag in soup.find_all(_BLOCKS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    for tag in soup.find_all(_CELLS):
        tag.insert_after(" ")
    root = soup.body or soup
    paragraphs = (_HTML_SPACE.sub(" ", p).strip() for p in _PARAGRAPHS.split(root.get_text()))
    return normalize_text("\n\n".join(p for p in paragraphs if p))


def load(path: Path, source: str | None = None, limits: LoadLimits = DEFAULT_LIMITS) -> LoadResult:
    path = Path(path)
    source = source or os.path.abspath(path)
    deadline = limits.deadline(path)
    data = read_bytes(path)
    if not data.strip():
        raise LoadError(f"{path} is empty; add content or remove the file")
    if b"\0" in data[:8192]:
        raise LoadError(f"{path} looks binary, not HTML (NUL bytes); re-save the page as HTML or remove it")
    # Decode first: UnicodeDammit honours a BOM or <meta charset>, then tries UTF-8 strictly and
    # falls back to windows-1252, where handing bytes to the lxml builder garbles Latin-1 pages.
    dammit = UnicodeDammit(data, is_html=True)
    markup = dammit.unicode_markup
    if markup is None:
        raise LoadError(f"{path} is in an unknown text encoding; re-save it as UTF-8")
    encoding = dammit.original_encoding or "utf-8"
    if control_ratio(markup[:32768]) > 0.01:
        raise LoadError(f"{path} looks binary, not HTML (control characters); re-save the page or remove it")
    # Parsing and walking the tree cost the square of the nesting depth: count it first (linear).
    limits.check_depth(html_depth(data, limits.max_depth), path, "HTML elements")
    soup = BeautifulSoup(markup, "lxml")
    deadline.check("parsing the HTML")
    title = _title(soup) or path.stem
    date = _date(soup)
    text = visible_text(soup)
    deadline.check("extracting the visible text")
    if text.startswith(title + "\n\n"):  # the <h1> repeating the <title>
        text = text[len(title) + 2 :]
    elif text == title:
        pass  # a page that is only a title: keep it as its own text
    if not text:
        raise LoadError(
            f"{path} has no visible text (the page may be built by JavaScript); "
            "save the rendered page (browser 'Save as… complete') or export it as text"
        )
    article = Article(
        source=source, text=text, title=title, date=date, span=(0, len(markup)),
        meta={"format": "html", "encoding": encoding},
    )  # fmt: skip
    return LoadResult(articles=[article])
