"""AppTest for the LSTM page: it loads, a quick run started from the page finishes in the
worker process and shows; generation and the state heatmap work from the stored model."""
from __future__ import annotations

import pytest

from apptest_tools import button, open_page, wait_for_results

PAGE = "lstm"


@pytest.mark.slow
def test_quick_run_then_generate_and_look_inside(store_dir):
    at = open_page(PAGE, 60).run()
    at.segmented_control(key="lstm:preset").set_value("quick").run()
    at.multiselect(key="lstm:variants").set_value(["baseline", "lstm"])
    button(at, "Train").click().run()
    assert not at.exception
    wait_for_results(at)
    table = at.dataframe[0].value
    assert list(table["variant"]) == ["baseline", "lstm"]
    assert (table["val/loss"] < 4.2).all()  # below a uniform guess over 65 characters

    at.slider(key="lstm:length").set_value(40)
    at.slider(key="lstm:temperature").set_value(0.0)
    button(at, "Generate").click().run()
    assert not at.exception
    samples = [c.value for c in at.code if c.value.startswith("ROMEO:")]
    assert len(samples) == 2  # one column per variant (st.code trims trailing newlines)

    assert any(s.value == "Inside the recurrent state" for s in at.subheader)
    titles = [chart.proto.spec for chart in at.get("plotly_chart")]
    assert any("cell state c, layer 1" in t for t in titles)
    assert any("gates and states along the input" in t for t in titles)
