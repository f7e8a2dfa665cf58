"""AppTest for the GAN page: it loads, a quick run of both variants started from the page
finishes in the worker process, and the scores, histogram and sample grids show."""
from __future__ import annotations

import pytest

from apptest_tools import open_page, wait_for_results
from engine.algorithms import yardstick

PAGE = "gan"


@pytest.mark.slow
def test_quick_run_from_the_page_shows_samples(store_dir):
    yardstick.feature_net("mnist")  # the yardstick, trained once per test process
    at = open_page(PAGE, 60).run()
    assert not at.exception
    assert at.title[0].value.startswith("GAN")
    assert any("not trained yet" in c.value for c in at.caption)
    at.segmented_control(key="gan:preset").set_value("quick").run()
    at.button[0].click().run()  # the form's Train button
    assert not at.exception
    wait_for_results(at)
    table = at.dataframe[0].value
    assert list(table["variant"]) == ["mlp", "dcgan"]
    assert (table["eval/fid"] > 0).all()
    headers = [sub.value for sub in at.subheader]
    for wanted in ("Scores against the anchors", "Samples", "Watch it learn",
                   "GAN and diffusion, one yardstick"):
        assert wanted in headers
    assert len(at.get("plotly_chart")) >= 6  # scores, histogram, sample grids, snapshot, ...
