"""The chat page over Chinese news (issue 32): a Chinese question, its Chinese answer and quote, the cited
span highlighted in the article, Han text marked lang="zh" and wrapped at phone width, a Chinese error."""

from __future__ import annotations

import lzma
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.browser.test_chat_page import ANSWER_DONE, _ask
from tests.browser.test_documents_panel import axe_violations
from tests.conftest import SHARED

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ZH_DOCS = SHARED / "corpus" / "crud-news-zh" / "docs.txt.xz"
# 1-based lines of docs.txt.xz: the embassy's Army Day reception in Berlin, Xiamen before typhoon Doksuri
# (the one asked about), the first supermoon of 2023, a rooftop solar project in Shanghai.
LINES = (1, 25, 34, 9)
QUESTION = "今年第5号超强台风叫什么名字？"
ANSWER = "杜苏芮"


@pytest.fixture(scope="module")
def zh_server(sample_settings, tmp_path_factory) -> Iterator[str]:
    """A live server over a collection of four real articles, each a .txt file as a user keeps them
    (`<prefix>，正文：<body>`), indexed as `rag index` does (the encoder chosen for the collection)."""
    from api.app import create_app  # noqa: PLC0415
    from api.testing import live_server  # noqa: PLC0415
    from rag.pipeline.indexer import index_paths  # noqa: PLC0415

    assert ZH_DOCS.is_file(), f"missing {ZH_DOCS}"
    with lzma.open(ZH_DOCS, "rt", encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    folder: Path = tmp_path_factory.mktemp("zh-src") / "news"
    folder.mkdir()
    for n in LINES:
        (folder / f"article-{n:05d}.txt").write_text(lines[n - 1] + "\n", encoding="utf-8")
    settings = sample_settings.model_copy(update={"index_dir": tmp_path_factory.mktemp("zh-index"),
                                                  "collection": "news", "rate_limit_per_minute": 0})
    index_paths([folder], settings)
    with live_server(create_app(settings)) as url:
        yield url


def _overflows(page, selector: str) -> bool:
    """True when an element is wider than its box (a Han run or number that did not wrap)."""
    return page.evaluate("s => [...document.querySelectorAll(s)].some(e => e.scrollWidth > e.clientWidth + 1)",
                         selector)


@pytest.mark.parametrize(("viewport", "shot"), [({"width": 1280, "height": 800}, "chat-zh-desktop.png"),
                                                ({"width": 390, "height": 844}, "chat-zh-phone.png")])
def test_chinese_question_answer_quote_and_highlight(browser, zh_server, output_dir, viewport, shot):
    expected = httpx.post(f"{zh_server}/v1/ask", json={"question": QUESTION}, timeout=120).json()
    assert not expected["refused"] and expected["citations"], expected
    assert ANSWER in expected["answer"], expected["answer"]
    cited = expected["citations"][0]
    assert ANSWER in cited["quote"]

    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(zh_server)
    _ask(page, QUESTION)
    user = page.locator(".msg.user").last
    assert user.inner_text() == QUESTION and user.get_attribute("lang") == "zh"
    answer = page.locator(f"{ANSWER_DONE} .answer").last
    assert ANSWER in answer.inner_text()
    # Han text is marked Chinese (the answer itself, or each Han run of an English answer).
    assert answer.get_attribute("lang") == "zh" or answer.locator("span[lang=zh]").count() >= 1
    assert page.locator(f"{ANSWER_DONE} .sources .src-title").first.inner_text() == cited["title"]

    page.locator(f"{ANSWER_DONE} .answer .chip[data-n='{cited['n']}']").first.click()
    mark = page.locator("#viewer-text mark")
    mark.wait_for(timeout=30_000)
    assert mark.inner_text() == cited["quote"]  # code-point offsets land on the quote exactly
    assert page.locator("#viewer-text").get_attribute("lang") == "zh"
    assert page.locator("#viewer-title").inner_text() == cited["title"]
    assert not _overflows(page, ".msg") and not _overflows(page, "#viewer-text")
    page.screenshot(path=str(output_dir / shot))
    page.keyboard.press("Escape")
    assert axe_violations(page) == []
    assert not errors, errors
    context.close()


def test_error_with_chinese_text_renders(browser, zh_server, output_dir):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(zh_server)
    page.wait_for_load_state("networkidle")  # the collection list is read (it resets a vanished choice)
    page.evaluate("() => localStorage.setItem('rag.collection', '新闻稿')")  # a collection this server lacks
    page.fill("#question", QUESTION)
    page.press("#question", "Enter")
    err = page.locator(".msg.error").last
    err.wait_for(timeout=30_000)
    assert "新闻稿" in err.inner_text()
    page.screenshot(path=str(output_dir / "chat-zh-error.png"))
    page.close()
