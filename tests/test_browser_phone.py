"""Issue 27 item 9 on a phone-sized window (390 x 844) in chromium: a tap on a chart used to
show Plotly's toolbar over the chart's title; there the toolbar stays hidden (a wide window
keeps it: PNG, zoom, pan, reset and Streamlit's full screen), and the FID chart names its
anchors in the legend, so no label lies over another or over a bar."""
from __future__ import annotations

import shutil

import pytest
from test_browser import CHROMIUM, FLAGS, ROOT, app_url, settle  # noqa: F401  (app_url: fixture)

pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM),
                                reason=f"no chromium at {CHROMIUM} (apt-get install chromium)")

TOOLBAR = """chart => { const bar = chart.querySelector('.modebar-container');
  if (!bar || getComputedStyle(bar).display === 'none') return 0;
  return bar.querySelectorAll('.modebar-btn').length; }"""


@pytest.mark.slow
def test_a_tapped_chart_shows_no_toolbar_over_its_title_on_a_phone(shipped_results, app_url):  # noqa: F811
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for width, height, tools in ((390, 844, 0), (1400, 1000, 5)):
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(f"{app_url}/gan?lang=zh")
            settle(page, timeout=180)
            chart = page.locator('.js-plotly-plot:has-text("FID")').first
            chart.scroll_into_view_if_needed()
            chart.hover()
            page.wait_for_timeout(500)
            assert chart.evaluate(TOOLBAR) == tools, (width, tools)
            names = chart.evaluate("c => [...c.querySelectorAll('.legendtext')]"
                                   ".map(t => t.textContent)")
            assert any(n.startswith("下限：真实对真实（FID ") for n in names), names
            assert not chart.evaluate("c => c.querySelectorAll('.annotation').length")
            page.close()
        browser.close()
