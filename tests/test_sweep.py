"""Sweeps without Ray: parsing, every spec validated before anything runs, mean ± std per
grid point from stored runs, the shareable link, the CLI (real tiny DNN runs with the
process executor, served from the store the second time) and the Sweeps page."""
from __future__ import annotations

import math

import pytest

from apptest_tools import open_page
from engine import cli, registry, sweep, ui
from engine.core import ConfigError
from engine.jobs import InlineExecutor, JobManager
from engine.plots import sweeps as sweep_plots

TINY = {"epochs": "1", "train_limit": "2000", "batch_size": "64"}


def plan_2x2(seeds=(0, 1)) -> sweep.Sweep:
    return sweep.build("dnn", "mlp", "quick", {"lr": ["1e-3", "3e-3"], "hidden": ["32", "64"]},
                       list(seeds), TINY)


def store_results(stored_run, plan: sweep.Sweep, accuracy) -> None:
    """Write each run of the plan as done, with test/acc = accuracy(point index, seed)."""
    for p, (point_specs, ids) in enumerate(zip(plan.specs, plan.run_ids())):
        for spec, run_id in zip(point_specs, ids):
            stored_run("dnn", "mlp", spec.config, {"test/acc": accuracy(p, spec.seed)},
                       seed=spec.seed, run_id=run_id)


def test_parsing():
    assert sweep.parse_grid(["lr=1e-3, 3e-3", "hidden=64"]) == {"lr": ["1e-3", "3e-3"],
                                                                  "hidden": ["64"]}
    assert sweep.parse_seeds("0-2,7") == [0, 1, 2, 7]
    assert sweep.format_seeds([0, 1, 2, 7, 8]) == "0-2,7,8"
    for bad, message in [(["lr"], "--grid takes"), (["lr=1,"], "--grid takes"),
                         (["lr=1", "lr=2"], "twice")]:
        with pytest.raises(ConfigError, match=message):
            sweep.parse_grid(bad)
    for bad in ("a", "3-1", "1,1", "٣", "-1", "0-2147483648", "1," * 150):
        with pytest.raises(ConfigError):
            sweep.parse_seeds(bad)


def test_a_huge_seed_range_is_refused_from_its_bounds_without_allocating():
    import tracemalloc

    tracemalloc.start()
    with pytest.raises(ConfigError, match="30,000,001|30000001"):
        sweep.parse_seeds("0-30000000")
    with pytest.raises(ConfigError, match="at most 400"):
        sweep.parse_seeds("0-200,1000-1300")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1_000_000, peak  # the old code built a 30-million-entry list and a set
    assert len(sweep.parse_seeds("0-399")) == 400


def test_every_spec_is_validated_before_anything_runs():
    plan = plan_2x2()
    assert len(plan.all_specs()) == 8 and plan.points[0] == {"lr": 1e-3, "hidden": 32}
    assert len({registry.run_id(s) for s in plan.all_specs()}) == 8
    cases = [({"lr": ["1e-3", "5"]}, "grid point lr=5: lr must be between"),
             ({"seed": ["1"]}, "use --seeds"), ({"width": ["1"]}, "unknown setting 'width'"),
             ({"lr": ["0.001", "1e-3"]}, "appears twice"),
             ({"lr": [str(i) for i in range(1, 30)], "hidden": [str(i) for i in range(8, 30)]},
              "at most")]
    for grid, message in cases:
        with pytest.raises(ConfigError, match=message):
            sweep.build("dnn", "mlp", "quick", grid, [0])
    with pytest.raises(ConfigError, match="unknown variant"):
        sweep.build("dnn", "nope", "quick", {"lr": ["1e-3"]}, [0])


def test_summary_is_mean_and_sample_std_over_seeds(store, stored_run):
    plan = plan_2x2()
    store_results(stored_run, plan, lambda p, seed: 0.5 + 0.1 * p + 0.02 * seed)
    rows = store.get_many([i for ids in plan.run_ids() for i in ids])
    table = sweep.summarize(plan, rows)
    assert list(table["done"]) == [2, 2, 2, 2]
    assert table["mean"].tolist() == pytest.approx([0.51, 0.61, 0.71, 0.81])
    assert table["std"].tolist() == pytest.approx([math.sqrt(2 * 0.01 ** 2)] * 4)
    assert sweep.best_index(plan, table) == 3
    assert sweep.progress(plan, rows) == (8, 8, 1.0)
    text = sweep.table_text(plan, table)
    assert "0.8100 ± 0.0141" in text and text.splitlines()[4].endswith("<- best")


def test_link_rebuilds_the_same_sweep():
    plan = plan_2x2(seeds=(0, 1, 2, 5))
    query = sweep.to_query(plan)
    assert query["grid"] == "lr:0.001,0.003;hidden:32,64" and query["seeds"] == "0-2,5"
    assert sweep.from_query(query).all_specs() == plan.all_specs()
    with pytest.raises(ConfigError, match="lacks"):
        sweep.from_query({"algorithm": "dnn"})


@pytest.mark.slow
def test_cli_sweep_trains_then_serves(store, capsys):
    argv = ["sweep", "dnn", "--variant", "mlp", "--preset", "quick", "--grid", "lr=1e-3,3e-3",
            "--seeds", "0-1", "--executor", "process",
            *[a for k, v in TINY.items() for a in ("--set", f"{k}={v}")]]
    assert cli.main(argv) == 0
    first = capsys.readouterr().out
    assert "test/acc mean ± std" in first and "<- best" in first and "2/2" in first
    finished = {r["id"]: r["finished"] for r in store.list_runs()}
    assert len(finished) == 4
    assert cli.main(argv) == 0
    assert capsys.readouterr().out == first  # the same table, every run served from the store
    assert {r["id"]: r["finished"] for r in store.list_runs()} == finished
    assert cli.main([*argv[:-2], "--set", "epochs=0"]) == 2


def test_figures():
    plan = sweep.build("dnn", "deep", "quick", {"activation": ["relu", "tanh"], "depth": ["2", "4"],
                                                "lr": ["1e-3"]}, [0, 1])
    table = sweep.summarize(plan, {})
    table["mean"] = [0.9, 0.8, 0.7, float("nan")]
    table["std"] = [0.01, float("nan"), 0.02, float("nan")]
    heat = sweep_plots.two_fields(table, "depth", "activation", "test/acc")
    assert heat.data[0].text[0][0] == "0.9000<br>± 0.0100" and heat.data[0].text[1][1] == "pending"
    lines = sweep_plots.parallel(table, list(plan.grid), "test/acc")
    assert list(lines.data[0].dimensions[0].ticktext) == ["relu", "tanh"]
    assert len(lines.data[0].dimensions[-1].values) == 3  # the pending point is left out


def test_page_shows_a_linked_sweep(store, stored_run, monkeypatch):
    monkeypatch.setattr(ui, "manager", lambda: JobManager(store, InlineExecutor(store)))
    plan = plan_2x2()
    store_results(stored_run, plan, lambda p, seed: 0.5 + 0.1 * p + 0.02 * seed)
    at = open_page("sweeps")
    at.query_params.update(sweep.to_query(plan))
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["test/acc mean ± std"]) == ["0.5100 ± 0.0141", "0.6100 ± 0.0141",
                                                  "0.7100 ± 0.0141", "0.8100 ± 0.0141"]
    assert any("Best point: **lr=0.003 hidden=64**" in c.value for c in at.caption)
    assert at.text_input(key="sweep:dnn:values:lr").value == "0.001,0.003"
    assert any("epochs=1" in c.value for c in at.caption)  # the link's fixed settings stay
    at.get("form_submit_button")[0].click()
    at.run()  # submitting the unchanged form is the same sweep: all 8 runs served
    assert not at.exception and len(store.list_runs()) == 8
    at.query_params.clear()
    bad = open_page("sweeps")
    bad.query_params.update({**sweep.to_query(plan), "grid": "lr:7"})
    bad.run()
    assert not bad.exception and "lr must be between" in bad.warning[0].value


@pytest.mark.slow
def test_page_form_validates_then_trains_and_links(store, monkeypatch):
    monkeypatch.setattr(ui, "manager", lambda: JobManager(store, InlineExecutor(store)))
    at = open_page("sweeps", default_timeout=120)
    at.run()
    assert not at.exception and at.info  # nothing chosen yet: says what to do
    at.multiselect(key="sweep:dnn:fields").set_value(["lr", "train_limit"])
    at.text_input(key="sweep:dnn:values:lr").set_value("0.001,7")
    at.get("form_submit_button")[0].click()
    at.run()
    assert "grid point lr\\=7" in at.error[0].value and not store.list_runs()  # escaped
    at.text_input(key="sweep:dnn:values:lr").set_value("0.001,0.003")
    at.text_input(key="sweep:dnn:values:train_limit").set_value("1000")
    at.text_input(key="sweep:dnn:seeds").set_value("0")
    at.get("form_submit_button")[0].click()
    at.run()  # the inline manager trains both runs inside this script run
    assert not at.exception
    assert [r["status"] for r in store.list_runs()] == ["done", "done"]
    assert at.query_params["grid"] == "lr:0.001,0.003;train_limit:1000"
    assert at.dataframe[0].value["done"].tolist() == [1, 1]


def test_sweep_runs_say_they_come_from_a_sweep(store, stored_run):
    """A grid point's runs are labelled 'sweep', not 'custom' (issue 27 item 9), which
    Runs shows in the visitor's language; the label leaves the run id alone, and a point at
    the preset's own defaults keeps the preset's name."""
    plan = sweep.build("dnn", "mlp", "quick", {"lr": ["2e-3", "3e-3"]}, [0])  # 2e-3: quick's
    at_defaults, changed = (point[0] for point in plan.specs)
    assert changed.preset == "sweep" and at_defaults.preset == "quick"
    by_hand = registry.build_spec("dnn", "mlp", "quick", {"lr": "3e-3"})
    assert by_hand.preset == "custom" and registry.run_id(by_hand) == plan.run_ids()[1][0]
    stored_run("dnn", "mlp", changed.config, {"test/acc": 0.5}, preset=changed.preset,
               run_id=plan.run_ids()[1][0])
    for lang, word in (("en", "sweep"), ("zh", "参数扫描")):
        at = open_page("runs")
        at.query_params["lang"] = lang
        at.run()
        assert not at.exception
        assert list(at.dataframe[0].value["preset"]) == [word]
        assert at.multiselect(key="runs:filter:preset").options == [word]
