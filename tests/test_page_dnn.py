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

    # The same request again is served from the store, not retrained, and the page says so
    # with the one click that trains a new seed instead.
    at.button[0].click().run()
    assert any("served from the store" in c.value for c in at.caption)
    assert any(i.value.startswith("Already trained") for i in at.info)
    new_seed = next(b for b in at.button if b.label == "Train a new run with seed 1")
    new_seed.click().run()
    assert not at.exception
    from engine.store import Store

    seeds = {r["spec"]["seed"] for r in Store(store_dir).list_runs("dnn")}
    assert seeds == {0, 1}
    assert at.number_input(key="dnn:seed").value == 1
    assert not any(i.value.startswith("Already trained") for i in at.info)


def test_bad_setting_gets_one_line(store_dir):
    at = open_page(PAGE, 60).run()
    at.multiselect(key="dnn:variants").set_value([])
    at.button[0].click().run()
    assert not at.exception
    assert at.error[0].value == "Choose at least one variant."
