"""Helpers shared by the AppTest page tests."""
from __future__ import annotations

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from engine import ui

ROOT = Path(__file__).resolve().parents[1]
HOME = str(ROOT / "Home.py")
PAGES = ROOT / "pages"


def page(name: str) -> str:
    """The file of page `name` (a registry key, "home", "compare" or "runs")."""
    return str(PAGES / f"{name}.py")


def open_page(name: str, default_timeout: float = 60) -> AppTest:
    """An AppTest of one page file, in a session that has been through Home.py's
    navigation (as every browser session has), so the page renders itself."""
    at = AppTest.from_file(page(name), default_timeout=default_timeout)
    at.session_state[ui.NAVIGATED] = True
    return at


def wait_for_results(at: AppTest, timeout: float = 400) -> AppTest:
    """Rerun the script (as the page's polling fragment would) until a results table shows
    and no run is in progress. The worker process trains meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception[0].value
        if at.dataframe and not at.get("progress"):
            return at
        time.sleep(1.0)
    raise AssertionError("the quick run did not finish in time")


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)
