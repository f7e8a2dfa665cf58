"""AppTest for the diffusion page: it loads, a quick run of all three variants started from
the page finishes in the worker process, the sample grids and strips show, and sampling new
digits from a stored model works."""
from __future__ import annotations

import pytest

from apptest_tools import open_page, wait_for_results
from engine.algorithms import yardstick

PAGE = "diffusion"


@pytest.mark.slow
def test_quick_run_from_the_page_shows_samples_and_strips(store_dir):
    yardstick.feature_net("mnist")  # the yardstick, trained once per test process
    at = open_page(PAGE, 60).run()
    assert not at.exception
    assert at.title[0].value.startswith("Diffusion")
    at.segmented_control(key="diffusion:preset").set_value("quick").run()
    at.button[0].click().run()
    assert not at.exception
    wait_for_results(at)
    table = at.dataframe[0].value
    assert list(table["variant"]) == ["ddpm_linear", "ddpm_cosine", "ddim_cosine"]
    assert (table["time/sample_ms_per_image"] > 0).all()
    headers = [sub.value for sub in at.subheader]
    for wanted in ("Scores against the anchors", "Samples", "Noise in, noise out",
                   "Sample new digits"):
        assert wanted in headers
    charts = len(at.get("plotly_chart"))
    at.button(key="diffusion:sample").click().run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == charts + 1  # the 8 new digits
