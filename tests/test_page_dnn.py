"""AppTest for the DNN page: it loads, a quick run started from the page finishes in the
worker process, and its results (table, curves, confusion matrix) show; a rerun is served
from the store."""
from __future__ import annotations

import pytest

from apptest_tools import open_page, wait_for_results

PAGE = "dnn"


@pytest.mark.slow
def test_quick_run_from_the_page_shows_results(store_dir):
    at = open_page(PAGE, 60).run()
    at.segmented_control(key="dnn:preset").set_value("quick").run()
    at.multiselect(key="dnn:variants").set_value(["logreg", "mlp"])
    at.button[0].click().run()  # the form's Train button
    assert not at.exception
    wait_for_results(at)
    table = at.dataframe[0].value
    assert list(table["variant"]) == ["logreg", "mlp"]
    assert (table["test/acc"] > 0.8).all()
    assert any(sub.value == "Where each variant goes wrong" for sub in at.subheader)

    # The same request again is served from the store, not retrained.
    at.button[0].click().run()
    assert any("served from the store" in c.value for c in at.caption)


def test_bad_setting_gets_one_line(store_dir):
    at = open_page(PAGE, 60).run()
    at.multiselect(key="dnn:variants").set_value([])
    at.button[0].click().run()
    assert not at.exception
    assert at.error[0].value == "Choose at least one variant."
