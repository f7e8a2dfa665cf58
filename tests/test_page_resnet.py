"""AppTest for the ResNet page: a quick plain-vs-residual run from the page finishes and
its table, curves and per-stage gradient norms show."""
from __future__ import annotations

import time

from apptest_tools import open_page

PAGE = "resnet"


def test_quick_run_from_the_page_shows_results(store_dir):
    at = open_page(PAGE, 60).run()
    assert not at.exception and at.title[0].value.startswith("ResNet")
    at.segmented_control(key="resnet:preset").set_value("quick").run()
    at.button[0].click().run()
    deadline = time.monotonic() + 150
    while not (at.dataframe and not at.get("progress")):
        assert time.monotonic() < deadline, "the quick run did not finish in time"
        time.sleep(1.0)
        at.run()
        assert not at.exception, at.exception[0].value
    table = at.dataframe[0].value
    assert list(table["variant"]) == ["plain", "residual"]
    assert {"params", "train seconds", "test/acc"} <= set(table.columns)
    assert any(sub.value == "Gradient norm per stage" for sub in at.subheader)
    assert any("Only depth 8 is trained" in i.value for i in at.info)
