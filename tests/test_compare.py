"""engine.compare on runs written through the store's own API (no training): the table
with a pinned baseline and deltas, the config diff, the CSV exports and the round trip of
a selection through query parameters."""
from __future__ import annotations

import io
import math

import pandas as pd
import pytest

from engine import compare, registry, ui
from engine.jobs import InlineExecutor, JobManager
from engine.plots.compare import final_bars


@pytest.fixture
def three(store, stored_run):
    """Two DNN runs that differ in hidden size and seed, plus a run of an algorithm that
    no module implements (its card cannot be loaded)."""
    base = {"dataset": "mnist", "epochs": 1, "hidden": 64}
    a = stored_run("dnn", "mlp", base, {"test/acc": 0.90, "test/loss": 0.30},
                   [(1, 0.5, "val/acc", 0.8), (2, 1.0, "val/acc", 0.85)])
    b = stored_run("dnn", "mlp", {**base, "hidden": 128},
                   {"test/acc": 0.93, "test/loss": 0.25}, [(1, 0.6, "val/acc", 0.82)], seed=1)
    c = stored_run("retired", "old", {"width": 3}, {"score": 7.0},
                   [(1, 0.1, "train/loss", 2.0)], preset="standard")
    return a, b, c


def test_table_pins_the_baseline_and_shows_deltas(three):
    a, b, c = three
    table, numeric = compare.compared([a, b, c], baseline_id=b["id"])
    assert list(table.index) == [b["id"], a["id"], c["id"]]  # baseline first
    assert numeric[:2] == ["test/acc", "test/loss"] and numeric[-2:] == ["params", "train seconds"]
    assert table.at[b["id"], "shown as"] == "value"
    assert table.at[b["id"], "test/acc"] == pytest.approx(0.93)
    assert table.at[a["id"], "shown as"] == "Δ vs baseline"
    assert table.at[a["id"], "test/acc"] == pytest.approx(0.90 - 0.93)
    assert table.at[a["id"], "test/loss"] == pytest.approx(0.30 - 0.25)
    assert table.at[a["id"], "params"] == 0
    # The unimplemented algorithm keeps its raw metric; it has no test/acc to subtract.
    assert math.isnan(table.at[c["id"], "test/acc"])
    assert math.isnan(table.at[c["id"], "score"])  # the baseline has no score either
    assert compare.headline(c) is None and compare.headline(b) == ("test/acc", 0.93)
    assert compare.better_direction([a, c]) == {"test/acc": 1}
    with pytest.raises(KeyError):
        compare.compared([a, b], baseline_id="nope")


def test_comparison_csv_keeps_values_and_deltas(three):
    a, b, c = three
    rows = pd.read_csv(io.StringIO(compare.comparison_csv([a, b, c], baseline_id=a["id"])))
    acc = rows[rows["quantity"] == "test/acc"].set_index("run_id")
    assert acc.at[b["id"], "value"] == pytest.approx(0.93)
    assert acc.at[b["id"], "baseline_value"] == pytest.approx(0.90)
    assert acc.at[b["id"], "delta"] == pytest.approx(0.03)
    assert bool(acc.at[a["id"], "baseline"]) and acc.at[a["id"], "delta"] == 0
    score = rows[rows["quantity"] == "score"]  # only the run that has it
    assert list(score["run_id"]) == [c["id"]] and score["value"].iloc[0] == 7.0


def test_config_diff_shows_only_differing_fields(three):
    a, b, c = three
    diff = compare.config_diff([a, b])
    assert list(diff.index) == ["seed", "hidden"]  # dataset, epochs, variant... are equal
    assert list(diff.loc["hidden"]) == ["64", "128"]
    assert list(diff.columns) == [compare.run_label(a), compare.run_label(b)]
    mixed = compare.config_diff([a, c])
    assert mixed.at["width", compare.run_label(a)] == compare.MISSING
    assert mixed.at["hidden", compare.run_label(c)] == compare.MISSING
    assert "algorithm" in mixed.index and "preset" in mixed.index
    assert compare.config_diff([a, a]).empty


def test_histories_csv_is_long_and_complete(three, store):
    a, b, _ = three
    frame = compare.histories_frame([a, b], {r["id"]: store.history(r["id"]) for r in (a, b)})
    rows = pd.read_csv(io.StringIO(compare.histories_csv(frame)))
    assert list(rows.columns) == ["run_id", "run", "step", "seconds", "key", "value"]
    assert len(rows) == 3
    mine = rows[rows["run_id"] == a["id"]]
    assert list(mine["step"]) == [1, 2] and list(mine["value"]) == [0.8, 0.85]
    assert set(rows["run"]) == {compare.run_label(a), compare.run_label(b)}
    only = pd.read_csv(io.StringIO(compare.histories_csv(frame, ["no/such"])))
    assert only.empty


def test_selection_round_trips_through_query_params(three):
    a, b, c = three
    statuses = {r["id"]: "done" for r in three}
    chosen = compare.Selection((a["id"], c["id"]), "val/acc", "seconds", c["id"])
    params = compare.encode_selection(chosen)
    assert params == {"runs": f"{a['id']},{c['id']}", "metric": "val/acc", "x": "seconds",
                      "baseline": c["id"]}
    assert compare.decode_selection(params, statuses) == (chosen, [], [])
    assert compare.encode_selection(compare.Selection()) == {"x": "step"}


def test_decoding_reports_unknown_and_unfinished_runs(three):
    a, b, _ = three
    statuses = {a["id"]: "done", b["id"]: "running"}
    params = {"runs": f" {a['id']},ghost-1,{b['id']},ghost-1,ghost-2", "x": "minutes",
              "baseline": "ghost-2"}
    selection, unknown, notes = compare.decode_selection(params, statuses)
    assert unknown == ["ghost-1", "ghost-2"]
    assert selection.runs == (a["id"],) and selection.baseline == a["id"]
    assert selection.x == "step"
    assert notes == [f"{b['id']} is running, not finished; left out",
                     "x must be step or seconds, got 'minutes'; showing step",
                     "baseline ghost-2 is not among the selected finished runs; "
                     "using the first run"]
    # AppTest and browsers may repeat a key: the last value counts, as in st.query_params.
    selection, _, _ = compare.decode_selection({"runs": ["ghost-3", a["id"]]}, statuses)
    assert selection.runs == (a["id"],)


def test_filters_and_runs_table(store, three, stored_run):
    a, b, c = three
    failed = stored_run("dnn", "deep", {"dataset": "fashion_mnist"}, None,
                        status="failed", preset="standard")
    runs = store.list_runs()
    assert compare.filter_runs(runs, algorithms=["dnn"], presets=["quick"]) == [
        r for r in runs if r["id"] in (a["id"], b["id"])]
    assert [r["id"] for r in compare.filter_runs(runs, datasets=["fashion_mnist"])] == [
        failed["id"]]
    assert [r["id"] for r in compare.filter_runs(runs, statuses=["failed"])] == [failed["id"]]
    assert len(compare.filter_runs(runs)) == 4
    table = compare.runs_table(runs, sort="oldest first")
    assert list(table.index) == [a["id"], b["id"], c["id"], failed["id"]]
    assert table.at[failed["id"], "error"] == "failed here"
    assert table.at[b["id"], "headline"] == "test/acc = 0.93"
    assert table.at[c["id"], "metrics"] == "score=7"
    assert list(compare.runs_table(runs, sort="status")["status"]) == ["done"] * 3 + ["failed"]
    assert compare.runs_table([]).empty  # a filter that matches nothing
    with pytest.raises(ValueError, match="sort must be one of"):
        compare.runs_table(runs, sort="size")


def test_final_bars_marks_the_baseline(three):
    a, b, c = three
    values = compare.final_values([a, b, c])
    fig = final_bars(values, "test/acc", b["id"])
    bar = fig.data[0]
    assert list(bar.y) == [compare.run_label(a), compare.run_label(b)]  # c has no test/acc
    assert bar.marker.color[1] != bar.marker.color[0]
    assert fig.layout.shapes[0].x0 == pytest.approx(0.93)
    assert "<html>" in fig.to_html()


@pytest.mark.slow
def test_actions_fit_statuses_and_report_what_they_could_not_do(store, three):
    a, b, c = three
    manager = JobManager(store, InlineExecutor(store))
    # c's algorithm has no module: it cannot be re-run, and the message says why.
    lines = ui.apply_action(manager, "rerun", [c])
    assert lines == ["Runs queued to train again: 0.",
                     f"{compare.run_label(c)}: unknown algorithm 'retired'; known: "
                     + ", ".join(compare.registry.KEYS)]
    assert ui.apply_action(manager, "cancel", [a, b]) == ["Runs asked to stop: 0."]
    assert ui.apply_action(manager, "delete", [a, c]) == [
        "Runs deleted, with their artifact folders: 2."]
    assert store.get(a["id"]) is None and store.get(c["id"]) is None and store.get(b["id"])


def test_a_metric_without_a_card_label_takes_the_shared_catalogue_label():
    card = registry.card("gan")
    assert "eval/fid_std" not in card.metric_labels
    assert compare.metric_label(card, "eval/fid_std") == "FID, std over seeds"
    assert compare.metric_label(card, "eval/precision").startswith("precision")  # the card's own
    assert compare.metric_label(card, "no/such_metric") == "no/such_metric"


def test_shipped_full_runs_stand_beside_the_visitors_runs_as_reference(monkeypatch):
    def run(variant, preset, shipped=None, dataset="mnist", rid=None):
        return {"id": rid or f"{variant}-{preset}-{dataset}", "variant": variant,
                "shipped": shipped, "spec": {"preset": preset, "config": {"dataset": dataset}}}

    full_mlp, full_logreg = run("mlp", "full", {}), run("logreg", "full", {})
    fashion = run("mlp", "full", {}, dataset="fashion_mnist")
    own_full = run("mlp", "full", None, rid="own")  # trained by the visitor: not a reference
    monkeypatch.setattr(ui, "stored_runs", lambda key: [full_mlp, full_logreg, fashion, own_full])
    card = registry.card("dnn")
    mine = [run("mlp", "quick")]
    assert ui.references(card, mine) == [full_mlp]  # same variant, same data; not logreg
    assert ui.references(card, [run("mlp", "quick", dataset="fashion_mnist")]) == [fashion]
    assert ui.references(card, [*mine, full_mlp]) == []  # the full run is shown already


def test_reference_curves_are_dotted_and_the_visitors_solid():
    from engine import plots

    rows = [(1, 0.1, "val/acc", 0.5), (2, 0.2, "val/acc", 0.7)]
    frame = pd.concat([plots.history_frame(rows, "mlp · quick · seed 0"),
                       plots.history_frame(rows, "mlp · full · seed 0", reference=True)])
    dash = {trace.name: trace.line.dash for trace in plots.curves(frame, "val/acc").data}
    assert dash == {"mlp · quick · seed 0": "solid", "mlp · full · seed 0": "dot"}


def test_eleven_gradient_series_get_eleven_colours():
    from engine import plots

    rows = [(step, 0.1 * step, f"grad/layer{i}", 0.5) for step in (1, 2) for i in range(11)]
    fig = plots.grouped_curves(plots.history_frame(rows, "deep"), "grad/", "gradients")
    assert len({trace.line.color for trace in fig.data}) == 11  # layer 1 and 11 shared one


def test_smoothing_is_a_debiased_moving_average_per_run_and_metric():
    import pandas as pd

    from engine import plots

    frame = pd.DataFrame({"step": [1, 2, 3, 1, 2], "seconds": 0.0, "key": "val/loss",
                          "value": [1.0, 3.0, 5.0, 10.0, 10.0], "run": list("xxxyy"),
                          "reference": False})
    out = plots.smoothed(frame, 0.5)
    x = out[out["run"] == "x"].sort_values("step")["value"].tolist()
    assert x == pytest.approx([1.0, 7 / 3, 27 / 7])  # the first point is not pulled to 0
    assert out[out["run"] == "y"]["value"].tolist() == [10.0, 10.0]  # runs never mix
    assert plots.smoothed(frame, 0.0) is frame and frame["value"].tolist()[1] == 3.0


def test_claim_shortfalls_name_each_measure_a_run_misses():
    run = {"algorithm": "gan", "metrics": {"eval/class_entropy": 0.78, "eval/recall": 0.0,
                                           "eval/fid": 624.0}}
    assert compare.claim_shortfalls(run) == [("eval/class_entropy", 0.78, 1, 0.9),
                                             ("eval/recall", 0.0, 1, 0.3)]
    good = {"algorithm": "diffusion", "metrics": {"eval/class_entropy": 0.99, "eval/fid": 69.0}}
    assert compare.claim_shortfalls(good) == []
    assert compare.claim_shortfalls({"algorithm": "dnn", "metrics": {"test/acc": 0.1}}) == []


def test_a_runs_address_names_its_preset_settings_seed_and_variants():
    card = registry.card("dnn")

    def row(variant, preset="quick", overrides=None, seed=0):
        spec = registry.build_spec("dnn", variant, preset, overrides, seed)
        return {"spec": {"variant": variant, "preset": spec.preset, "config": spec.config,
                         "seed": spec.seed}}

    both = [row("mlp", overrides={"epochs": 3}, seed=1), row("deep", overrides={"epochs": 3}, seed=1)]
    assert compare.run_address(card, both[0], both) == {
        "preset": "quick", "epochs": "3", "seed": "1", "variants": "mlp,deep"}
    # every variant: no variants key, as a Train press of all of them writes it
    every = [row(v, "standard") for v in card.variants]
    assert compare.run_address(card, every[0], every) == {"preset": "standard"}


def test_gradient_series_and_feature_maps_are_named_in_the_visitors_language():
    from engine import plots
    from engine.plots.vision import feature_map_title

    rows = [(step, 0.1 * step, f"grad/{part}", 0.5) for step in (1, 2)
            for part in ("layer_01", "layer_11", "stem", "stage2", "head")]
    names = {trace.name for trace in
             plots.grouped_curves(plots.history_frame(rows, "deep"), "grad/", "g", lang="zh").data}
    assert names == {"第 1 层", "第 11 层", "输入层（stem）", "第 2 阶段", "输出头"}
    assert feature_map_title("conv 2 + max-pool: 16 x 5 x 5", "zh") == \
        "第 2 个卷积层 + 最大池化：16 × 5 × 5"
    assert feature_map_title("conv 1 + ReLU: 6 x 28 x 28", "en") == "conv 1 + ReLU: 6 × 28 × 28"


def test_a_one_point_thumbnail_is_a_labelled_dot_without_a_y_axis():
    """An axis autoscaled around one value (0.5 to 1.5 for 0.958) reads as another number."""
    from engine import plots

    one = plots.thumbnail(plots.history_frame([(1, 1.0, "eval/fid", 68.97)], "d"), "eval/fid",
                          "FID", "68.97")
    assert one.data[0].text == ("68.97",) and one.layout.yaxis.visible is False
    assert one.layout.title.text == "FID"
    curve = plots.thumbnail(plots.history_frame([(1, 1.0, "val/acc", 0.9),
                                                 (2, 2.0, "val/acc", 0.95)], "d"), "val/acc")
    assert curve.data[0].mode == "lines" and curve.layout.yaxis.visible is not False
