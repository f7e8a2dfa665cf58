"""Issue 15, item 5: ten browser sessions opened at the same moment on a freshly started server
all render their page (no `ImportError: cannot import name 'ui' from 'engine'`, no exception
box). Real server, real chromium; slow."""
from __future__ import annotations

import pytest
from test_browser import CHROMIUM, FLAGS, app_url, settle  # noqa: F401 (app_url: a fixture)

SESSIONS = int(__import__("os").environ.get("TOP10_COLD_SESSIONS", "10"))


@pytest.mark.slow
def test_ten_sessions_at_once_on_a_fresh_server_all_render(app_url):  # noqa: F811
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        pages = [browser.new_context().new_page() for _ in range(SESSIONS)]
        for page in pages:  # all requests go out before any page has rendered
            page.goto(app_url, wait_until="commit")
        rendered = 0
        problems = []
        for i, page in enumerate(pages):
            try:
                settle(page, timeout=60)
            except Exception as error:  # a page that never shows its title counts as failed
                problems.append(f"session {i}: {type(error).__name__}")
                continue
            text = page.inner_text("body")
            boxes = page.locator('[data-testid="stException"]').count()
            if boxes or "ImportError" in text:
                problems.append(f"session {i}: exception box; {text[:200]!r}")
            else:
                rendered += 1
        browser.close()
    assert rendered == SESSIONS, problems
