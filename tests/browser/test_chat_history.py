"""Chats kept in the browser: a reload keeps the conversation; past chats listed, switched and deleted;
each answer copied, retried and marked "not helpful" (counted by the server without the question's text)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.test_chat_page import ANSWER_DONE, TIMEOUT_MS, _ask
from tests.browser.test_documents_panel import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARC = "Where is the Arc'teryx Museum store located?"
MARS = "What is the boiling point of liquid nitrogen on Mars?"


def _wait_answers(page, n: int) -> None:
    page.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length === n && "
                           "!document.querySelector('.msg.assistant.streaming')", arg=[ANSWER_DONE, n], timeout=TIMEOUT_MS)


def test_history_survives_reload_and_chats_are_listed_switched_deleted(browser, server_url, output_dir,
                                                                       tmp_path_factory):
    context = browser.new_context(viewport={"width": 1280, "height": 800},
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if r.url.endswith("/v1/ask") else None)
    page.goto(server_url)
    _ask(page, ARC)
    first = page.locator(ANSWER_DONE).last.locator(".answer").inner_text()
    assert "Nanjing West Road" in first

    # A reload keeps the conversation, citations and all.
    page.reload()
    _wait_answers(page, 1)
    assert page.locator(".msg.user").all_inner_texts() == [ARC]
    restored = page.locator(ANSWER_DONE).last
    assert restored.locator(".answer").inner_text() == first and restored.locator(".answer .chip").count() >= 1
    assert re.search(r"Answered by .+ in (\d+ ms|\d+\.\d s)$", restored.locator(".answered-by").inner_text())
    restored.locator(".answer .chip").first.click()
    page.locator("#viewer-text mark").wait_for(timeout=TIMEOUT_MS)
    assert "sample/" in page.locator("#viewer-meta").inner_text()
    assert str(tmp_path_factory.getbasetemp()) not in page.content(), "no server path on the page"
    page.keyboard.press("Escape")

    # Copy puts the answer and its sources on the clipboard.
    restored.get_by_role("button", name="Copy").click()
    expect(restored.locator(".action-status")).to_have_text("Copied.")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert "Nanjing West Road" in copied and "[1]" in copied.split("Sources:")[0] and "\n\nSources:\n[1] " in copied

    # A new chat; a refusal marked "not helpful" is counted by the server.
    page.click("#new-chat")
    assert page.locator(".msg").count() == 0 and page.locator("#empty").is_visible()
    _ask(page, MARS)
    refused = page.locator(".msg.assistant.refused").last
    before = httpx.get(f"{server_url}/v1/stats/refusals", timeout=30).json()
    refused.get_by_role("button", name="Not helpful").click()
    refused.get_by_role("button", name="The documents do answer it").click()
    expect(refused.locator(".action-status")).to_have_text(re.compile("^Thanks"), timeout=30_000)
    after = httpx.get(f"{server_url}/v1/stats/refusals", timeout=30).json()
    assert after["not_helpful_refused"] == before["not_helpful_refused"] + 1
    assert after["feedback_questions"] == [], "no question text unless the operator opted in"

    # The list: newest first, the open chat marked; switch to the first chat.
    page.click("#chats-toggle")
    chats = page.locator("#chat-list li")
    assert chats.count() == 2
    assert MARS in chats.nth(0).inner_text() and chats.nth(0).locator("[aria-current=true]").count() == 1
    page.screenshot(path=str(output_dir / "chats-list-desktop.png"))
    assert axe_violations(page) == []
    chats.nth(1).locator("button.chat-open").click()
    assert page.locator("#chats-panel").is_hidden()
    assert page.locator(".msg.user").all_inner_texts() == [ARC]

    # Retry asks the same question again, in place.
    n_asked = len(asked)
    page.locator(ANSWER_DONE).last.get_by_role("button", name="Retry").click()
    _wait_answers(page, 1)
    assert len(asked) == n_asked + 1 and page.locator(".msg.user").count() == 1
    assert "Nanjing West Road" in page.locator(ANSWER_DONE).last.inner_text()

    # A reload keeps the chat this tab shows; the feedback mark is kept with its chat.
    page.reload()
    _wait_answers(page, 1)
    assert page.locator(".msg.user").all_inner_texts() == [ARC]
    page.click("#chats-toggle")
    page.locator("#chat-list li", has_text=MARS).locator("button.chat-open").click()
    assert page.locator(".msg.refused").get_by_role("button", name="Marked not helpful").is_disabled()

    # Delete: the open chat goes, the page shows a new chat.
    page.click("#chats-toggle")
    page.get_by_role("button", name=f"Delete chat {MARS}").click()
    assert page.locator("#chat-list li").count() == 1 and page.locator(".msg").count() == 0
    assert "Deleted" in page.locator("#chats-status").inner_text()
    assert not errors, errors
    context.close()
