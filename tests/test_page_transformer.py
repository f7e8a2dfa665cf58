"""AppTest for the Transformer page: it loads, a quick run started from the page finishes
and shows, generation works, and the attention maps of a visitor's input are drawn."""
from __future__ import annotations

import pytest

from apptest_tools import button, open_page, wait_for_results

PAGE = "transformer"


@pytest.mark.slow
def test_quick_run_generation_and_attention_map(store_dir):
    at = open_page(PAGE, 60).run()
    at.segmented_control(key="transformer:preset").set_value("quick").run()
    at.multiselect(key="transformer:variants").set_value(["learned"])
    button(at, "Train").click().run()
    assert not at.exception
    wait_for_results(at)
    assert list(at.dataframe[0].value["variant"]) == ["learned"]

    at.slider(key="transformer:length").set_value(30)
    button(at, "Generate").click().run()
    assert not at.exception
    assert any(c.value.startswith("ROMEO:") for c in at.code)

    at.text_input(key="transformer:probe").set_value("To be, or not").run()
    assert not at.exception
    charts = [chart.proto.spec for chart in at.get("plotly_chart")]
    attention = [c for c in charts if "Attention weights" in c]
    assert attention and "layer 2, head 4" in attention[0]  # quick preset: 2 layers, 4 heads

    at.text_input(key="transformer:probe").set_value("naïve").run()  # not in the vocabulary
    assert at.error and "not in the vocabulary" in at.error[0].value
