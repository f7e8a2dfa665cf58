"""Issue 26 item 4, in the real frontend: public mode's limits hold across a reload, under
simultaneous clicks from several visitors, and on the Sweeps page's Cancel. Each browser
context is one visitor (its own XSRF cookie); a reload keeps the cookie, so the visitor."""
from __future__ import annotations

import shutil

import pytest
from test_browser import CHROMIUM, FLAGS, app_url, settle  # noqa: F401  (app_url: fixture)

from engine.store import Store

pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM),
                                reason=f"no chromium at {CHROMIUM} (apt-get install chromium)")

# one DQN agent set at the standard preset with a seed of its own: about two minutes of
# training at 1 thread (long enough to still be live after a reload), never shipped
DQN = "/dqn?preset=standard&variants=dqn&seed="


@pytest.fixture
def public(monkeypatch):
    """Public mode for the server app_url starts (request it before app_url)."""
    monkeypatch.setenv("TOP10_PUBLIC", "1")
    monkeypatch.setenv("TOP10_PUBLIC_QUEUE", "3")


def train(page, url: str) -> list[str]:
    """Open url, press Train, return the page's error lines."""
    page.goto(url)
    settle(page, timeout=120)
    page.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_timeout(2500)
    settle(page, timeout=120)
    return page.locator('[data-testid="stMain"] [data-testid="stAlertContentError"]'
                        ).all_inner_texts()


@pytest.mark.slow
def test_public_limits_hold_across_reloads_and_simultaneous_visitors(
        public, app_url, store_dir):  # noqa: F811
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        one = browser.new_context().new_page()
        assert train(one, app_url + DQN + "101") == []
        assert [r["seed"] for r in Store(store_dir).list_runs() if r["status"] != "done"
                or r.get("shipped") is None] == [101]
        one.reload()  # a new Streamlit session, the same browser: still one run at a time
        errors = train(one, app_url + DQN + "102")
        assert errors and "one run at a time" in errors[0], errors
        assert len(errors) == 1 and "\n" not in errors[0].strip()

        # the Sweeps page's Cancel, pressed by another visitor, leaves this run alone
        other = browser.new_context().new_page()
        other.goto(app_url + "/sweeps?algorithm=dqn&variant=dqn&preset=standard&grid=lr:0.001"
                   "&seeds=101")
        settle(other, timeout=120)
        other.get_by_role("button", name="Cancel the sweep").click()  # it shows: the run is live
        other.wait_for_timeout(1500)
        mine = next(r for r in Store(store_dir).list_runs() if r["seed"] == 101)
        assert mine["status"] in ("queued", "running", "done") and not mine["cancel"]
        browser.close()

    # six visitors press Train in the same second: never more than the cap queued
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        pages = [browser.new_context().new_page() for _ in range(6)]
        for i, page in enumerate(pages):
            page.goto(app_url + DQN + str(200 + i))
        for page in pages:
            settle(page, timeout=180)
        buttons = [page.get_by_role("button", name="Train", exact=True) for page in pages]
        for button in buttons:  # playwright's sync API is one thread: clicks back to back
            button.click(no_wait_after=True)
        for page in pages:
            page.wait_for_timeout(500)
            settle(page, timeout=180)
        new = [r for r in Store(store_dir).list_runs() if r["seed"] >= 200]
        trained = [r for r in Store(store_dir).list_runs() if r.get("shipped") is None
                   and r["status"] in ("queued", "running", "done")]
        refused = sum(any("Public mode" in e for e in page.locator(
            '[data-testid="stAlertContentError"]').all_inner_texts()) for page in pages)
        browser.close()
    # run 101 is still live: it counts against the cap of 3 as well
    assert len(trained) <= 3, [(r["seed"], r["status"]) for r in trained]
    assert refused >= 3 and refused + len(new) >= 6
