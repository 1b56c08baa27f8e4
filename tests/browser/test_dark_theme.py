"""The page follows the system's dark setting (prefers-color-scheme), with 0 axe-core violations in both themes."""

from __future__ import annotations

import pytest

from tests.browser.test_chat_page import _ask
from tests.browser.test_documents_panel import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARC = "Where is the Arc'teryx Museum store located?"
MARS = "What is the boiling point of liquid nitrogen on Mars?"
LUMINANCE = """() => { const [r, g, b] = getComputedStyle(document.documentElement).backgroundColor.match(/\\d+/g).map(Number);
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255; }"""


@pytest.mark.parametrize(("viewport", "shot"), [({"width": 1280, "height": 800}, "dark-desktop.png"),
                                                ({"width": 390, "height": 844}, "dark-phone.png")])
def test_dark_theme_follows_the_system_with_no_axe_violations(browser, server_url, output_dir, viewport, shot):
    context = browser.new_context(viewport=viewport, color_scheme="dark")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server_url)
    assert page.evaluate(LUMINANCE) < 0.15, "dark background under prefers-color-scheme: dark"
    _ask(page, ARC)
    _ask(page, MARS)
    page.locator(".msg.assistant.refused .label").wait_for()
    page.screenshot(path=str(output_dir / shot))
    assert axe_violations(page) == [], "dark theme"
    page.emulate_media(color_scheme="light")  # the same page, switched live by the system setting
    assert page.evaluate(LUMINANCE) > 0.9
    page.screenshot(path=str(output_dir / shot.replace("dark", "light")))
    assert axe_violations(page) == [], "light theme"

    # The panels and the citation viewer in the dark too.
    page.emulate_media(color_scheme="dark")
    page.click("#settings-toggle")
    page.click("#docs-toggle")
    page.locator("#doc-list > li").first.wait_for(timeout=60_000)
    page.screenshot(path=str(output_dir / shot.replace(".png", "-documents.png")))
    assert axe_violations(page) == [], "dark theme, documents and settings open"
    page.click("#docs-close")
    page.locator(".msg.assistant .answer .chip").first.click()
    page.locator("#viewer-text mark").wait_for(timeout=60_000)
    page.screenshot(path=str(output_dir / shot.replace(".png", "-viewer.png")))
    assert axe_violations(page) == [], "dark theme, citation viewer open"
    assert not errors, errors
    context.close()
