"""The chat page end to end: streamed answer, citation chip -> highlighted span, refusal, errors, keyboard."""

from __future__ import annotations

import httpx
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ANSWER_DONE = ".msg.assistant:not(.streaming)"
TIMEOUT_MS = 120_000


def _ask(page, question: str) -> None:
    """Type, press Enter, and wait until one more assistant message has finished streaming."""
    done = page.locator(ANSWER_DONE).count()
    page.fill("#question", question)
    page.press("#question", "Enter")
    # A function, not an expression string: the page's CSP (no 'unsafe-eval') refuses string evaluation.
    page.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length > n", arg=[ANSWER_DONE, done],
                           timeout=TIMEOUT_MS)


def _expected(server_url: str, question: str) -> dict:
    r = httpx.post(f"{server_url}/v1/ask", json={"question": question}, timeout=120)
    r.raise_for_status()
    return r.json()


@pytest.mark.parametrize(("viewport", "shot"), [({"width": 1280, "height": 800}, "chat-desktop.png"),
                                                ({"width": 390, "height": 844}, "chat-phone.png")])
def test_seed_question_citation_highlight(browser, server_url, seed_questions, output_dir, viewport, shot):
    seed = next(s for s in seed_questions if s["id"] == "dev-01")
    expected = _expected(server_url, seed["question"])
    assert expected["citations"], "dev-01 is answerable from the sample"
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server_url)
    _ask(page, seed["question"])
    answer = page.locator(f"{ANSWER_DONE} .answer").last
    assert answer.inner_text().strip()
    assert page.locator(".msg.user").last.inner_text() == seed["question"]

    chips = page.locator(f"{ANSWER_DONE} .answer .chip")
    assert chips.count() >= 1
    chips.first.click()
    mark = page.locator("#viewer-text mark")
    mark.wait_for(timeout=30_000)
    n = int(chips.first.get_attribute("data-n"))
    cited = next(c for c in expected["citations"] if c["n"] == n)
    assert mark.inner_text() == cited["quote"]
    assert page.locator("#viewer-title").inner_text() == cited["title"]
    # The highlighted span is scrolled into view inside the panel.
    assert page.evaluate("""() => { const m = document.querySelector('#viewer-text mark').getBoundingClientRect();
        const v = document.querySelector('#viewer-text').getBoundingClientRect();
        return m.top >= v.top - 1 && m.top < v.bottom; }""")
    page.screenshot(path=str(output_dir / shot))
    page.keyboard.press("Escape")
    assert page.locator("#viewer").is_hidden()
    if viewport["width"] < 600:
        page.screenshot(path=str(output_dir / shot.replace(".png", "-answer.png")))
    assert not errors, errors
    context.close()


def test_refusal_errors_keyboard_and_history(browser, server_url, output_dir):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(server_url)
    # Shift+Enter inserts a newline and sends nothing.
    page.fill("#question", "first line")
    page.press("#question", "Shift+Enter")
    assert "\n" in page.input_value("#question")
    assert page.locator(".msg.user").count() == 0

    _ask(page, "What is the boiling point of liquid nitrogen on Mars?")
    refused = page.locator(".msg.assistant.refused").last
    assert "No supported answer" in refused.inner_text()
    assert refused.locator(".closest button.passage").count() >= 1
    page.screenshot(path=str(output_dir / "chat-refusal.png"))
    refused.locator(".closest button.passage").first.click()
    page.locator("#viewer-text mark").wait_for(timeout=30_000)
    page.keyboard.press("Escape")

    # A follow-up carries the history; the page shows what was searched for.
    _ask(page, "Where is the Arc'teryx Museum store located?")
    _ask(page, "and when did it open?")
    assert "Searched for:" in page.locator(ANSWER_DONE).last.inner_text()

    # Bad input is shown as a readable error, not a crash.
    page.fill("#question", "x" * 2100)
    page.press("#question", "Enter")
    err = page.locator(".msg.error").last
    err.wait_for(timeout=30_000)
    assert "limit" in err.inner_text()
    page.close()
