"""AppTest for the Compare page: the selection comes from query parameters and goes back
into them, a link naming unknown runs says which, and the CSV downloads hold the table and
the histories. Runs are written through the store's API (no training), so this is fast."""
from __future__ import annotations

import io

import pandas as pd
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from apptest_tools import open_page
from engine.markup import escape_markdown

PAGE = "compare"


@pytest.fixture
def two(store, stored_run):
    base = {"dataset": "mnist", "epochs": 1, "hidden": 64}
    a = stored_run("dnn", "mlp", base, {"test/acc": 0.90, "test/loss": 0.30},
                   [(1, 0.5, "val/acc", 0.80), (2, 1.0, "val/acc", 0.85),
                    (2, 1.0, "train/loss", 0.4)])
    b = stored_run("dnn", "mlp", {**base, "hidden": 128},
                   {"test/acc": 0.93, "test/loss": 0.25},
                   [(1, 0.6, "val/acc", 0.82), (2, 1.2, "val/acc", 0.88)], seed=1)
    return a, b


@pytest.fixture
def downloads(monkeypatch) -> dict[str, str]:
    """file name -> text of every download button's data (AppTest keeps no media files)."""
    seen: dict[str, str] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):
        if filename and isinstance(path_or_data, (bytes, str)):
            data = path_or_data
            seen[filename] = data.decode() if isinstance(data, bytes) else data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    return seen


def test_selection_comes_from_the_link_and_goes_back_into_it(two):
    a, b = two
    at = open_page(PAGE, 60)
    at.query_params.update(runs=f"{a['id']},{b['id']}", metric="val/acc", x="seconds",
                           baseline=b["id"])
    at.run()
    assert not at.exception, at.exception[0].value
    assert not at.warning
    assert at.multiselect(key="compare:runs").value == [a["id"], b["id"]]
    assert at.selectbox(key="compare:baseline").value == b["id"]
    assert at.selectbox(key="compare:metric").value == "val/acc"
    assert at.radio(key="compare:x").value == "seconds"
    table = at.dataframe[0].value
    assert list(table.index) == [b["id"], a["id"]]  # the baseline is pinned first
    assert table.at[a["id"], "test/acc"] == pytest.approx(0.90 - 0.93)
    diff = at.dataframe[1].value
    assert list(diff.index) == ["seed", "hidden"]
    assert at.query_params == {"runs": f"{a['id']},{b['id']}", "metric": "val/acc",
                               "x": "seconds", "baseline": b["id"], "lang": "en"}

    # Changing the widgets rewrites the link.
    at.selectbox(key="compare:baseline").set_value(a["id"]).run()
    at.radio(key="compare:x").set_value("step").run()
    assert at.query_params["baseline"] == a["id"] and at.query_params["x"] == "step"
    assert list(at.dataframe[0].value.index) == [a["id"], b["id"]]


def test_link_with_unknown_runs_names_them(two):
    a, _ = two
    at = open_page(PAGE, 60)
    at.query_params["runs"] = f"dnn-mlp-000000000000,{a['id']},gone-too"
    at.run()
    assert not at.exception
    assert [w.value for w in at.warning] == [escape_markdown(
        "This link names runs that are not in the store: dnn-mlp-000000000000, gone-too.", 400)]
    assert at.multiselect(key="compare:runs").value == [a["id"]]
    assert at.query_params["runs"] == a["id"]  # the link now names only what exists


def test_csv_downloads_hold_the_table_and_the_histories(two, downloads):
    a, b = two
    at = open_page(PAGE, 60)
    at.query_params.update(runs=f"{a['id']},{b['id']}", baseline=a["id"])
    at.run()
    assert not at.exception
    table = pd.read_csv(io.StringIO(downloads["comparison.csv"]))
    acc = table[table["quantity"] == "test/acc"].set_index("run_id")
    assert acc.at[b["id"], "value"] == pytest.approx(0.93)
    assert acc.at[b["id"], "delta"] == pytest.approx(0.03)
    assert acc.at[a["id"], "baseline"]
    history = pd.read_csv(io.StringIO(downloads["histories.csv"]))
    assert len(history) == 5
    assert list(history[history["run_id"] == b["id"]]["value"]) == [0.82, 0.88]
    labels = [d.label for d in at.download_button]
    assert labels == ["Table as CSV", "Histories as CSV", "Curves as HTML", "Bars as HTML"]


def test_empty_store_and_empty_link(store_dir):
    at = open_page(PAGE, 60).run()
    assert not at.exception
    assert "No finished runs yet" in at.info[0].value


def test_runs_of_an_algorithm_without_a_module_show_raw_metrics(store, two, stored_run):
    a, _ = two
    old = stored_run("retired", "old", {"width": 3}, {"score": 7.0}, preset="standard")
    at = open_page(PAGE, 60)
    at.query_params.update(runs=f"{old['id']},{a['id']}", metric="no/such")
    at.run()
    assert not at.exception, at.exception[0].value
    table = at.dataframe[0].value
    assert table.at[old["id"], "score"] == 7.0 and table.at[old["id"], "shown as"] == "value"
    assert f"No run here reported {escape_markdown('no/such')}; showing val/acc." in [
        c.value for c in at.caption]
    assert at.selectbox(key="compare:metric").value == "val/acc"  # dnn's headline, as val/
