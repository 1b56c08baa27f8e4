"""The Documents panel lists files, newest first, with their articles under them: a real multi-article press-release
file from data/sample is uploaded, grouped, previewed (its first article, then the article picked), found with the
filter box and deleted whole, by keyboard; 0 axe-core violations in the light and the dark theme."""

from __future__ import annotations

import pytest

from tests.browser.test_documents_panel import TIMEOUT_MS, axe_violations, tab_to
from tests.conftest import SAMPLE

pytestmark = [pytest.mark.browser, pytest.mark.slow]
MULTI = SAMPLE / "000_85e430cf6dcbaa50.txt"  # six press releases in one file
NAME = "press-week.txt"


def test_group_preview_filter_delete_a_multi_article_file(browser, server_url, output_dir, tmp_path):
    upload = tmp_path / NAME
    upload.write_bytes(MULTI.read_bytes())
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(server_url)
    page.click("#docs-toggle")
    page.locator("#doc-list > li").first.wait_for(timeout=TIMEOUT_MS)
    files_before = page.locator("#doc-list > li").count()
    page.set_input_files("#file-input", [str(upload)])
    page.wait_for_function("() => document.querySelector('#upload-status').textContent.startsWith('Done')",
                           timeout=TIMEOUT_MS)
    try:
        # Grouped: one entry for the file, first (newest first), its six articles under it.
        listed = page.request.get(f"{server_url}/v1/files", params={"q": NAME}).json()["files"][0]
        articles = listed["articles"]
        assert len(articles) == 6
        file = f"#doc-list > li[data-file-id='{listed['file_id']}']"
        item = page.locator(file)
        item.wait_for(timeout=TIMEOUT_MS)
        assert page.locator("#doc-list > li").count() == files_before + 1
        assert page.locator("#doc-list > li").first.get_attribute("data-file-id") == listed["file_id"]
        assert item.locator(".doc-title").first.inner_text() == NAME
        assert "in uploads/" in item.locator(".doc-meta").first.inner_text()
        assert "6 articles" in item.inner_text() and "added " in item.inner_text()
        # The preview: the first lines of the file's first article.
        preview = item.locator(".file-preview")
        assert preview.locator(".preview-title").inner_text() == f"Article 1 of 6: {articles[0]['title']}"
        assert preview.locator(".preview-text").text_content() == articles[0]["preview"]
        assert articles[0]["preview"][:80] in page.request.get(
            f"{server_url}/v1/documents/{articles[0]['doc_id']}").json()["text"]

        # By keyboard: open the file's articles, pick the fifth, its preview shows.
        toggle = f"{file} button.toggle"
        tab_to(page, toggle)
        assert page.get_attribute(toggle, "aria-expanded") == "false"
        page.keyboard.press("Enter")
        assert page.get_attribute(toggle, "aria-expanded") == "true"
        assert item.locator("button.article").count() == 6 and item.locator("button.article").nth(5).is_visible()
        tab_to(page, f"{file} button.article[data-doc-id='{articles[4]['doc_id']}']")
        page.keyboard.press("Enter")
        assert preview.locator(".preview-title").inner_text() == f"Article 5 of 6: {articles[4]['title']}"
        assert "Merck" in articles[4]["title"]
        assert item.locator("button.article[aria-pressed='true']").count() == 1
        page.screenshot(path=str(output_dir / "docs-by-file-light.png"))
        assert axe_violations(page) == [], "light theme, a file's articles open"

        # "Read the article" opens the whole article in the viewer.
        preview.locator("button.read").click()
        page.wait_for_function("() => document.querySelector('#viewer-text').textContent.includes('Merck')",
                               timeout=TIMEOUT_MS)
        assert page.locator("#viewer-title").inner_text() == articles[4]["title"]
        page.keyboard.press("Escape")

        # The filter box: an article title's word finds the file in both places it is indexed, with only
        # that article shown; the file's name narrows it to the upload.
        page.fill("#doc-filter", "merck")
        assert page.locator("#doc-list > li").count() == 2
        assert item.locator("button.toggle").inner_text() == "1 of 6 articles"
        assert item.locator("button.article").count() == 1 and item.locator("button.article").is_visible()
        assert page.locator("#docs-status").inner_text() == f"2 of {files_before + 1} files match “merck”."
        page.fill("#doc-filter", "MERCK press-week")
        assert page.locator("#doc-list > li").count() == 1
        page.emulate_media(color_scheme="dark")
        page.screenshot(path=str(output_dir / "docs-by-file-dark.png"))
        assert axe_violations(page) == [], "dark theme, filtered"
        page.set_viewport_size({"width": 390, "height": 844})
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px at phone width"
        page.screenshot(path=str(output_dir / "docs-by-file-phone-dark.png"))
        assert axe_violations(page) == [], "dark theme at phone width"
        page.set_viewport_size({"width": 1280, "height": 900})
        page.emulate_media(color_scheme="light")

        # Delete the whole file, confirmed, by keyboard: all six articles go.
        tab_to(page, f"{file} button.del[aria-label='Delete {NAME}']", back=True)
        page.keyboard.press("Enter")
        assert "and its 6 articles" in item.locator(".confirm-text").inner_text()
        assert page.evaluate("document.activeElement.textContent") == "Cancel"
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.querySelector('#docs-status').textContent.startsWith('Deleted')",
                               timeout=TIMEOUT_MS)
        assert page.locator("#docs-status").inner_text() == f"Deleted “{NAME}” (6 articles)."
        assert page.locator(file).count() == 0
        assert page.evaluate("document.activeElement.id") == "doc-filter"
        page.fill("#doc-filter", "")
        assert page.locator("#doc-list > li").count() == files_before
        for a in articles:
            assert page.request.get(f"{server_url}/v1/documents/{a['doc_id']}").status == 404
        page.screenshot(path=str(output_dir / "docs-by-file-deleted.png"))
        assert axe_violations(page) == [], "light theme, after the delete"
    finally:  # the session's other tests must not find the copy
        left = page.request.get(f"{server_url}/v1/files", params={"q": NAME}).json()["files"]
        for f in left:
            page.request.delete(f"{server_url}/v1/files/{f['file_id']}")
    assert not problems, problems
    page.close()
