"""One server, two collections: the page's picker switches collection and the question, its citation, the
Documents panel and the collection line follow; a chat keeps the collection it was asked in (a reload, the Chats
list); 0 axe-core violations in the light and the dark theme."""

from __future__ import annotations

import pytest

from api.app import create_app
from api.testing import live_server
from tests.browser.test_documents_panel import ANSWER_DONE, TIMEOUT_MS, ask_by_keyboard, axe_violations, tab_to

pytestmark = [pytest.mark.browser, pytest.mark.slow]
QUESTION = "How many glass cabins does the Pearl Ring ferris wheel carry?"
INFO = "#collection-info"


def _info_says(page, text: str) -> None:
    page.wait_for_function("([sel, t]) => document.querySelector(sel).textContent.startsWith(t)", arg=[INFO, text],
                           timeout=TIMEOUT_MS)


def test_switch_collection_and_ask(browser, two_collections, embedder, output_dir):
    with live_server(create_app(two_collections, embedder=embedder)) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        picker = page.locator("#collection")
        picker.wait_for(timeout=TIMEOUT_MS)
        _info_says(page, "Collection: sample · 15 documents")
        assert [o.strip() for o in picker.locator("option").all_inner_texts()] == [
            "sample (15 documents)", "notes (1 document)"]
        assert picker.input_value() == "sample"

        # The picker by keyboard: Tab to it, pick "notes".
        tab_to(page, "#collection")
        page.select_option("#collection", "notes")
        _info_says(page, "Collection: notes · 1 document")
        ask_by_keyboard(page, QUESTION)
        answer = page.locator(ANSWER_DONE).last
        assert "48 glass cabins" in answer.inner_text()
        answer.locator(".answer .chip").first.click()
        page.locator("#viewer-text mark").wait_for(timeout=TIMEOUT_MS)
        assert "48 glass cabins" in page.locator("#viewer-text mark").inner_text()
        assert "notes/pearl-ring.txt" in page.locator("#viewer-meta").inner_text()
        page.keyboard.press("Escape")
        page.click("#docs-toggle")
        page.wait_for_function("() => document.querySelector('#docs-status').textContent.startsWith('1 file')",
                               timeout=TIMEOUT_MS)
        assert page.locator("#doc-list > li .doc-title").first.inner_text() == "pearl-ring.txt"
        page.screenshot(path=str(output_dir / "collections-notes-light.png"))
        assert axe_violations(page) == [], "light theme, collection notes"
        page.emulate_media(color_scheme="dark")
        page.screenshot(path=str(output_dir / "collections-notes-dark.png"))
        assert axe_violations(page) == [], "dark theme, collection notes"
        page.emulate_media(color_scheme="light")

        # Back to the sample: a new chat there, the documents panel follows, the same question is refused.
        page.select_option("#collection", "sample")
        _info_says(page, "Collection: sample · 15 documents")
        page.wait_for_function("() => document.querySelector('#docs-status').textContent.startsWith('5 files')",
                               timeout=TIMEOUT_MS)
        assert page.locator(".msg").count() == 0, "another collection starts a new chat"
        ask_by_keyboard(page, QUESTION)
        assert "No supported answer" in page.locator(ANSWER_DONE).last.inner_text()

        # A reload keeps the collection; opening the earlier chat goes back to the collection it was asked in.
        page.reload()
        _info_says(page, "Collection: sample")
        assert page.locator("#collection").input_value() == "sample"
        page.click("#chats-toggle")
        chat = page.locator("#chat-list li", has_text="in notes")
        chat.wait_for(timeout=TIMEOUT_MS)
        chat.locator("button.chat-open").click()
        _info_says(page, "Collection: notes")
        assert page.locator("#collection").input_value() == "notes"
        assert "48 glass cabins" in page.locator(ANSWER_DONE).last.inner_text()
        page.locator(f"{ANSWER_DONE} .answer .chip").first.click()  # the stored citation opens in its collection
        page.locator("#viewer-text mark").wait_for(timeout=TIMEOUT_MS)
        page.emulate_media(color_scheme="dark")
        page.screenshot(path=str(output_dir / "collections-chat-dark.png"))
        assert axe_violations(page) == [], "dark theme, a past chat of notes"
        page.keyboard.press("Escape")
        page.set_viewport_size({"width": 390, "height": 844})
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px at phone width"
        page.screenshot(path=str(output_dir / "collections-phone-dark.png"))
        assert axe_violations(page) == [], "dark theme at phone width, the picker shown"
        assert not errors, errors
        context.close()
