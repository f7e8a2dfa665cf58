"""Issue 27 item 8, in the real frontend: while a run trains, its page draws the curve as
its points arrive, in the run panel (the fragment redraws every second)."""
from __future__ import annotations

import shutil

import pytest
from test_browser import CHROMIUM, FLAGS, app_url, settle  # noqa: F401  (app_url: fixture)

pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM),
                                reason=f"no chromium at {CHROMIUM} (apt-get install chromium)")

# points on the drawn line of the chart titled "Live: ..." (-1: no such chart yet)
POINTS = """() => {
  const live = [...document.querySelectorAll('.js-plotly-plot')].find(
      p => (p.querySelector('.gtitle')?.textContent || '').startsWith('Live'));
  if (!live) return -1;
  const line = live.querySelector('.scatterlayer .trace path.js-line');
  const d = line ? line.getAttribute('d') || '' : '';
  return d ? d.split('L').length : (live.querySelector('.scatterlayer .point') ? 1 : 0);
}"""


@pytest.mark.slow
def test_the_live_curve_grows_while_a_run_trains(app_url):  # noqa: F811
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        # a DQN agent set of its own seed: a greedy evaluation every 2,000 of 100,000 steps
        page.goto(app_url + "/dqn?preset=standard&variants=dqn&seed=301")
        settle(page, timeout=120)
        page.get_by_role("button", name="Train", exact=True).click()
        page.wait_for_function(f"({POINTS})() >= 1", timeout=120_000)
        first = page.evaluate(POINTS)
        page.wait_for_function(f"({POINTS})() > {first}", timeout=120_000)
        assert page.evaluate(POINTS) > first
        browser.close()
