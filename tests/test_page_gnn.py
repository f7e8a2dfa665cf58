"""AppTest for the GNN page: it loads, a quick run of all four variants started from the
page finishes in the worker process and its results show (table, maps, neighbourhood
viewer, GAT attention); picking another node and other variants redraws the viewer, and
cutting the node's edges reruns the stored models."""
from __future__ import annotations

import pytest

from apptest_tools import open_page, wait_for_results

PAGE = "gnn"


@pytest.mark.slow
def test_quick_run_and_node_viewer(store_dir):
    at = open_page(PAGE, 90).run()
    at.segmented_control(key="gnn:preset").set_value("quick").run()
    at.button[0].click().run()  # the form's Train button, all four variants
    assert not at.exception
    wait_for_results(at)
    table = at.dataframe[0].value
    assert list(table["variant"]) == ["mlp", "gcn", "gat", "sage"]
    accuracy = dict(zip(table["variant"], table["test/acc"]))
    assert accuracy["gcn"] > accuracy["mlp"] + 0.1  # the graph helps, even after 40 epochs
    assert (table["test/acc_std"] >= 0).all()
    headers = [s.value for s in at.subheader]
    assert "A node and its neighbourhood" in headers
    assert any(h.startswith("GAT: how node") for h in headers)

    at.number_input(key="gnn:node").set_value(42)
    at.selectbox(key="gnn:left").set_value("gat")
    at.selectbox(key="gnn:right").set_value("sage").run()
    assert not at.exception
    assert "GAT: how node 42 weighs its incoming edges" in [s.value for s in at.subheader]
    assert any(c.value.startswith("Node 42 (") for c in at.caption)

    at.toggle(key="gnn:cut").set_value(True).run()  # reload the stored weights, cut edges
    assert not at.exception
    cut = next(d.value for d in at.dataframe if "without" in d.value.columns)
    assert list(cut["variant"]) == ["gat", "sage"]
    assert cut["without"].str.startswith("class ").all()
