"""End to end in a real browser: `streamlit run Home.py` on a local port, driven by Debian's
chromium through Playwright. Opens every page, checks that no exception box appears, starts
a quick training from the browser, navigates away and back while it runs, waits for its
result, and saves a screenshot of every page under the test's temporary folder."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("TOP10_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM),
                                reason=f"no chromium at {CHROMIUM} (apt-get install chromium)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_url(store_dir, tmp_path):
    port = free_port()
    log = open(tmp_path / "streamlit.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "Home.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            pass
        assert time.monotonic() < deadline, (tmp_path / "streamlit.log").read_text()
        time.sleep(0.5)
    yield url
    server.terminate()
    server.wait(20)


def settle(page, timeout: float = 60) -> None:
    """Wait until the script run finished (no running indicator) and the title shows."""
    page.wait_for_selector("h1", timeout=timeout * 1000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
        timeout=timeout * 1000)
    page.wait_for_timeout(500)


@pytest.mark.slow
def test_every_page_and_a_training_from_the_browser(app_url, tmp_path):
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("TOP10_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob("*.png"):
        old.unlink()
    # a run with a single history point (one epoch: one val/acc), for Compare to draw
    single = subprocess.run([sys.executable, "-m", "engine", "run", "dnn", "--variant", "mlp",
                             "--preset", "quick", "--set", "epochs=1", "--json"], cwd=ROOT,
                            capture_output=True, text=True, check=True)
    single_id = json.loads(single.stdout.strip().splitlines()[-1])["run_id"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(app_url)
        settle(page)
        nav = page.locator('[data-testid="stSidebarNav"] a')
        titles = [nav.nth(i).inner_text().strip() for i in range(nav.count())]
        assert "Home" in titles and "DNN (multilayer perceptron)" in titles, titles
        for i, title in enumerate(titles):
            page.locator('[data-testid="stSidebarNav"] a').nth(i).click()
            settle(page)
            assert page.locator('[data-testid="stException"]').count() == 0, title
            page.screenshot(path=shots / f"{i:02d}-{title.split(' (')[0].lower()}.png",
                            full_page=True)

        # One quick training started from the browser, with a page change while it runs.
        page.get_by_role("link", name="DNN (multilayer perceptron)").click()
        settle(page)
        page.get_by_role("radio", name="quick").click()
        settle(page)
        page.get_by_role("button", name="Train", exact=True).click()
        # the sidebar of this same page lists the job within 3 s (it polls whatever it
        # showed when the page loaded)
        page.locator('[data-testid="stSidebar"]').get_by_text("dnn/").first.wait_for(
            timeout=3000)
        page.wait_for_selector('[data-testid="stProgress"]', timeout=30000)
        page.get_by_role("link", name="Home").click()
        settle(page)
        page.get_by_role("link", name="DNN (multilayer perceptron)").click()
        page.get_by_text("Where each variant goes wrong").wait_for(timeout=180000)
        settle(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        # a reload opens the quick preset again (it is in the address): the run and its result
        page.reload()
        page.wait_for_selector('[data-testid="stDataFrame"]', timeout=60000)
        settle(page)
        assert "preset=quick" in page.url
        assert page.get_by_text("not trained yet").count() == 0
        page.screenshot(path=shots / "dnn-trained.png", full_page=True)

        # Compare draws the one-point run as a marker, not an invisible line
        page.goto(f"{app_url}/compare?runs={single_id}&metric=val/acc")
        page.wait_for_selector(".js-plotly-plot", timeout=60000)
        settle(page)
        traces = page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')]"
                               ".flatMap(p => (p.data || []).map(t => [t.type || 'scatter',"
                               " t.mode || '']))")  # the only run: its val/acc is one point
        lines = [mode for kind, mode in traces if kind == "scatter"]
        assert lines and all(m == "markers" for m in lines), traces
        page.screenshot(path=shots / "compare-single-point.png", full_page=True)

        page.goto(f"{app_url}/nosuchpage")
        settle(page)
        assert page.get_by_text("There is no page called").count() == 1
        page.screenshot(path=shots / "nosuchpage.png", full_page=True)
        browser.close()
    assert len(list(shots.glob("*.png"))) == len(titles) + 3


@pytest.mark.slow
def test_a_fresh_server_serves_shared_links_through_our_navigation(app_url):
    """Sessions opened at once straight to /compare on a freshly started server (a shared
    link after a restart) all get the Compare page inside Home.py's navigation and sidebar:
    no exception, no page list generated from the pages/ folder (its titles would be the
    file names, e.g. "compare"). Pins the Streamlit behaviour ui.through_navigation()
    answers: until st.navigation has run once, a request runs the page file by itself."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        pages = [browser.new_page() for _ in range(6)]
        for page in pages:
            page.goto(f"{app_url}/compare", wait_until="commit")
        for page in pages:
            settle(page, timeout=120)
            page.wait_for_selector("text=Training runs on", timeout=60000)  # our sidebar
            assert page.locator('[data-testid="stException"]').count() == 0
            assert page.locator("h1").first.inner_text() == "Compare runs"
            nav = [t.strip() for t in page.locator('[data-testid="stSidebarNav"] a')
                   .all_inner_texts()]
            assert "Compare" in nav and "DNN (multilayer perceptron)" in nav, nav
            assert not {"compare", "runs", "dnn", "home"} & set(nav), nav
        browser.close()


@pytest.mark.slow
def test_chinese_pages_and_the_switch_round_trip_through_the_url(app_url, tmp_path):
    """?lang=zh gives Chinese pages (screenshots of Home and the DNN page, with a CJK font
    the characters render as glyphs); moving between pages keeps it; the sidebar switch
    writes ?lang=en, which a reload keeps; switching back writes ?lang=zh."""
    from playwright.sync_api import sync_playwright

    shots = tmp_path / "screenshots-zh"
    shots.mkdir()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{app_url}/?lang=zh")
        settle(page)
        assert page.locator("h1").first.inner_text() == "深度学习十大算法"
        assert page.get_by_role("button", name="全部训练（快速）").count() == 1
        page.screenshot(path=shots / "home-zh.png", full_page=True)

        page.get_by_role("link", name="DNN（多层感知机）").first.click()
        settle(page)
        page.wait_for_url(lambda url: "/dnn?" in url and "lang=zh" in url)
        assert page.locator("h1").first.inner_text() == "DNN（多层感知机）"
        assert page.locator('[data-testid="stException"]').count() == 0
        page.get_by_text("随机种子").first.wait_for()  # the form's widgets have drawn
        page.screenshot(path=shots / "dnn-zh.png", full_page=True)

        page.get_by_text("English", exact=True).click()
        page.wait_for_url(lambda url: "/dnn?" in url and "lang=en" in url)
        settle(page)
        assert page.locator("h1").first.inner_text() == "DNN (multilayer perceptron)"
        page.reload()
        settle(page)
        assert "/dnn?" in page.url and "lang=en" in page.url
        assert page.locator("h1").first.inner_text() == "DNN (multilayer perceptron)"
        page.get_by_text("简体中文", exact=True).click()
        page.wait_for_url(lambda url: "/dnn?" in url and "lang=zh" in url)
        settle(page)
        assert page.locator("h1").first.inner_text() == "DNN（多层感知机）"
        browser.close()
