"""Helpers shared by the AppTest page tests."""
from __future__ import annotations

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

PAGES = Path(__file__).resolve().parents[1] / "pages"


def page(name: str) -> str:
    return str(PAGES / f"{name}.py")


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
