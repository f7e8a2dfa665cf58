"""Issue 26 item 8, in the real frontend: a hostile link's values are shown as the
characters typed. tests/test_hostile_links.py renders with a CommonMark parser that has no
autolinking; Streamlit's frontend (GitHub-flavoured Markdown) autolinks http://, www. and
a@b even when they are backslash-escaped, so only chromium shows what a visitor sees."""
from __future__ import annotations

import shutil
from urllib.parse import quote

import pytest
from test_browser import CHROMIUM, FLAGS, app_url, settle  # noqa: F401  (app_url: fixture)

pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM),
                                reason=f"no chromium at {CHROMIUM} (apt-get install chromium)")

SWEEP = "/sweeps?algorithm=dnn&variant=mlp&grid=lr:0.001&seeds="
LINKS = {  # what each link made the page render before the fix
    "remote image": SWEEP + quote("![x](https://evil.example/pixel.png)"),
    "phishing link": SWEEP + quote("[Sign in again](https://evil.example/login)"),
    "bare URL": SWEEP + quote("https://evil.example/login or www.evil.example"),
    "escaped URL": "/compare?runs=" + quote("https://evil.example/login,www.evil.example,"
                                            "admin@evil.example"),
    "60k warning": SWEEP + "1," * 30_000,
}


@pytest.mark.slow
def test_hostile_link_values_render_as_plain_short_text(app_url):  # noqa: F811
    from playwright.sync_api import sync_playwright

    problems = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        for case, link in LINKS.items():
            page.goto(app_url + link)
            settle(page, timeout=120)
            main = page.locator('[data-testid="stMain"]')
            alerts = main.locator('[data-testid="stAlert"]').all_inner_texts()
            found = {
                "exception box": page.locator('[data-testid="stException"]').count(),
                "no message": not alerts,
                "remote <img>": main.locator('img[src*="evil"]').count(),
                "<a> to evil": main.locator('a[href*="evil"]').count(),
                "long message": max(map(len, alerts), default=0) > 1000,
            }
            # the value is still said, as text (not swallowed into markup)
            found["value not shown"] = case != "60k warning" and not any(
                "evil.example" in text for text in alerts)
            problems += [f"{case}: {what}" for what, bad in found.items() if bad]
        browser.close()
    assert not problems, problems
