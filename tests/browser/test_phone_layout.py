"""The page on a phone (390 px, touch screen): placeholder whole, date filters behind a toggle, Enter adds a
line and the button sends, a refusal's label stays in view, refusal notes in plain words (scores with explain)."""

from __future__ import annotations

import pytest

from tests.browser.test_chat_page import ANSWER_DONE, TIMEOUT_MS
from tests.browser.test_documents_panel import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.slow]
MARS = "What is the boiling point of liquid nitrogen on Mars?"
PLACEHOLDER_FITS = """() => { const q = document.querySelector('#question'); const s = getComputedStyle(q);
    const ctx = document.createElement('canvas').getContext('2d'); ctx.font = `${s.fontSize} ${s.fontFamily}`;
    const room = q.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
    return ctx.measureText(q.placeholder).width <= room; }"""
LABEL_IN_VIEW = """() => { const l = document.querySelector('.msg.refused .label').getBoundingClientRect();
    const m = document.querySelector('#messages').getBoundingClientRect();
    return l.top >= m.top - 1 && l.bottom <= m.bottom + 1 && l.height > 0; }"""


def _send_by_button(page, question: str) -> None:
    done = page.locator(ANSWER_DONE).count()
    page.fill("#question", question)
    page.tap("#send")
    page.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length > n", arg=[ANSWER_DONE, done],
                           timeout=TIMEOUT_MS)


def test_phone_layout_touch_refusal_and_explain(browser, server_url, output_dir):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server_url)
    assert page.evaluate("() => matchMedia('(pointer: coarse)').matches"), "the context emulates a touch screen"

    # The placeholder is whole; no hint about keys on a touch screen.
    assert page.evaluate(PLACEHOLDER_FITS)
    assert "Enter" not in page.get_attribute("#question", "placeholder")
    assert page.locator("#hint").is_hidden() and page.get_attribute("#question", "aria-describedby") is None

    # The date filters sit behind a toggle: the composer stays small.
    assert page.locator("#since").is_hidden() and page.locator("#filters-toggle").is_visible()
    assert page.locator("#composer").bounding_box()["height"] < 120
    page.tap("#filters-toggle")
    assert page.locator("#since").is_visible() and page.get_attribute("#filters-toggle", "aria-expanded") == "true"
    page.fill("#since", "2024-05-01")
    page.dispatch_event("#since", "change")
    page.tap("#filters-toggle")
    assert page.locator("#since").is_hidden()
    assert "2024-05-01" in page.locator("#filters-summary").inner_text(), "what is set shows beside the toggle"
    page.tap("#filters-toggle")
    page.tap("#clear-dates")
    page.tap("#filters-toggle")

    # Enter adds a line; the button sends.
    page.fill("#question", "first line")
    page.press("#question", "Enter")
    assert page.input_value("#question") == "first line\n" and page.locator(".msg.user").count() == 0
    _send_by_button(page, MARS)
    refused = page.locator(".msg.assistant.refused").last
    notes = " ".join(refused.locator(".note").all_inner_texts())
    assert notes and "score" not in notes and "<" not in notes, f"plain words without explain: {notes}"
    assert page.evaluate(LABEL_IN_VIEW), "the refusal's label is in view when the answer arrives"
    page.evaluate("() => { const m = document.querySelector('#messages'); m.scrollTop = m.scrollHeight; }")
    assert page.evaluate(LABEL_IN_VIEW), "and stays in view while the closest passages are scrolled"
    assert page.locator("#send").is_enabled()
    page.screenshot(path=str(output_dir / "phone-refusal.png"))
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"
    assert axe_violations(page) == []

    # Explain (a setting, kept in the browser): the refusal shows its scores.
    page.tap("#settings-toggle")
    page.check("#explain")
    page.tap("#settings-toggle")
    _send_by_button(page, MARS)
    explained = page.locator(".msg.assistant.refused").last
    assert explained.locator(".note.scores").inner_text().startswith("Scores: best evidence ")
    page.screenshot(path=str(output_dir / "phone-refusal-explained.png"))
    page.reload()
    assert page.is_checked("#explain"), "the explain setting survives a reload"
    assert not errors, errors
    context.close()
