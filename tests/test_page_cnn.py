"""AppTest for the CNN page: it loads, a quick run of all three variants started from the
page finishes in the worker process, and the comparison and the CNN visuals show."""
from __future__ import annotations

import pytest

from apptest_tools import open_page, wait_for_results

PAGE = "cnn"


@pytest.mark.slow
def test_quick_run_from_the_page_shows_the_comparison_and_visuals(store_dir):
    at = open_page(PAGE, 60).run()
    at.segmented_control(key="cnn:preset").set_value("quick").run()
    at.button[0].click().run()  # the form's Train button, all three variants
    assert not at.exception
    wait_for_results(at)
    table = at.dataframe[0].value
    assert list(table["variant"]) == ["mlp", "lenet5", "modern"]
    assert (table["test/acc"] > 0.8).all()
    headings = {sub.value for sub in at.subheader}
    assert {"Parameters vs accuracy", "What the first layer learned",
            "Feature maps, layer by layer", "Draw a digit"} <= headings
    assert any("Draw on the black square" in i.value for i in at.info)

    at.number_input(key="cnn:maps_index").set_value(7).run()  # another test image's maps
    assert not at.exception
