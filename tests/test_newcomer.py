"""A newcomer's first hour (issue 16): a page opens on the preset and settings in its address
(else the preset with stored results), tables read as percentages and seconds with the card's
labels, an unknown address says so, quick results that are smoke tests say so, and the
Word2Vec quick corpus holds the words of the page's own examples."""
from __future__ import annotations

import json

import pytest
import torch
from streamlit.testing.v1 import AppTest

from apptest_tools import open_page
from engine import compare, registry, ui
from engine.algorithms import lstm, word2vec
from engine.data.corpora import load_corpus
from engine.inspect import words


def test_a_page_opens_on_the_preset_and_settings_of_its_address(store_dir):
    at = open_page("dnn")
    at.query_params["preset"] = "quick"
    at.query_params["epochs"] = "3"
    at.query_params["seed"] = "7"
    at.query_params["lr"] = "not a number"  # ignored, not an error
    at.run()
    assert not at.exception
    assert at.segmented_control(key="dnn:preset").value == "quick"
    assert at.number_input(key="dnn:quick:epochs").value == 3
    assert at.number_input(key="dnn:quick:lr").value == registry.card("dnn").default_config(
        "quick")["lr"]
    assert at.number_input(key="dnn:seed").value == 7
    # the run panel looks for exactly those runs
    assert any("not trained yet" in c.value for c in at.caption)


def test_without_an_address_a_page_opens_on_the_preset_with_stored_results(stored_run):
    at = open_page("dnn").run()
    assert at.segmented_control(key="dnn:preset").value == "standard"  # nothing stored
    config = registry.card("dnn").default_config("quick")
    stored_run("dnn", "mlp", config, {"test/acc": 0.9}, preset="quick")
    at = open_page("dnn").run()
    assert not at.exception
    assert at.segmented_control(key="dnn:preset").value == "quick"


def test_number_formats_follow_the_kind_of_metric():
    assert compare.number_format("test/acc") == "percent"
    assert compare.number_format("eval/wordsim353_coverage") == "percent"
    assert compare.number_format("train seconds") == "%.1f s"
    assert compare.number_format("time/epoch_ms") == "%.2f ms"
    assert compare.number_format("params") == "%d"
    assert compare.number_format("val/loss") == "%.4g"
    assert compare.format_metric("test/acc", 0.98123) == "98.12%"
    assert compare.format_metric("train seconds", 23.030839) == "23.0 s"
    assert compare.metric_label(registry.card("gnn"), "time/epoch_ms") == \
        "ms per epoch (train step + eval)"


def _show_comparison(key: str) -> None:
    from engine import registry, ui

    card = registry.card(key)
    ui.comparison(card, ui.stored_runs(key))


def test_the_comparison_table_shows_percentages_seconds_and_card_labels(stored_run):
    card = registry.card("dnn")
    metrics = {k: 0.5 for k in card.metrics} | {"test/acc": 0.98123}
    stored_run("dnn", "mlp", card.default_config("quick"), metrics,
               history=[(1, 0.5, "val/acc", 1.0)])
    at = AppTest.from_function(_show_comparison, args=("dnn",)).run()
    assert not at.exception
    columns = json.loads(at.dataframe[0].proto.columns)
    assert columns["test/acc"]["label"] == "test accuracy"
    assert columns["test/acc"]["type_config"]["format"] == "percent"
    assert columns["train seconds"]["type_config"]["format"] == "%.1f s"
    assert any("98.12%" in m.value for m in at.caption)  # the headline caption too


@pytest.mark.parametrize("key", ["gan", "diffusion", "word2vec", "dnn"])
def test_quick_results_of_a_smoke_test_say_so_and_point_to_standard(stored_run, key):
    card = registry.card(key)
    stored_run(key, next(iter(card.variants)), card.default_config("quick"),
               {k: 0.5 for k in card.metrics}, history=[(1, 0.5, card.headline, 1.0)])
    at = AppTest.from_function(_show_comparison, args=(key,)).run()
    assert not at.exception
    notes = [i.value for i in at.info if i.value.startswith("Smoke test")]
    if key == "dnn":
        assert not notes  # a quick MLP result is a real (small) result
    else:
        assert len(notes) == 1 and "**standard**" in notes[0]


@pytest.mark.parametrize("path,unknown", [("http://h:8501/", ""), ("http://h:8501/cnn", ""),
                                          ("http://h:8501/compare?runs=a", ""),
                                          ("http://h:8501/nosuchpage", "nosuchpage")])
def test_an_address_no_page_has_is_named(path, unknown):
    assert ui.unknown_page(path) == unknown


@pytest.mark.slow  # seconds: a fresh Python (imports torch) or a whole corpus
@pytest.mark.parametrize("preset", ["quick", "standard"])
def test_word2vec_presets_keep_the_words_of_the_page_examples(preset):
    cfg = registry.card("word2vec").default_config(preset)
    vocabulary, _ = word2vec.count_words(load_corpus(cfg["corpus"], cfg["lowercase"],
                                                     cfg["max_words"]), cfg["min_count"])
    assert set(words.DEMO_WORDS) <= set(vocabulary)


def test_recurrent_generation_carries_the_state_it_would_recompute():
    model = lstm.build_model("lstm", registry.card("lstm").default_config("quick"), 65).eval()
    ids = torch.randint(0, 65, (1, 20))
    with torch.inference_mode():
        whole = model(ids)[0, -1]
        _, state = model.step(ids[:, :-4])
        stepped, _ = model.step(ids[:, -4:], state)
    assert torch.allclose(whole, stepped[0, -1], atol=1e-5)


def test_the_yardstick_preparation_is_a_step_of_its_own_with_an_eta():
    from engine.algorithms import yardstick

    class Seen:
        cancelled = False

        def progress(self, done, total, note=""):
            self.last = (done / total, note)

    seen = Seen()
    step = yardstick._Prefixed(seen)
    step.started -= 10.0  # ten seconds in, a quarter done: about 30 s left
    step.progress(1, 4, "epoch 1/3")
    fraction, note = seen.last
    assert fraction == 0.25 and note.startswith("preparing")
    assert "about 30 s left" in note


def test_preparation_seconds_add_up_over_seeds_apart_from_training():
    from engine import metrics

    score = {"eval/fid": 10.0, "eval/confidence": 0.9, "eval/hist_max_dev": 0.1}
    final = metrics.summarise_seeds([{**score, "prep/seconds": 40.0},
                                     {**score, "prep/seconds": 0.0}], [1.0, 1.0], 6.0)
    assert final["prep/seconds"] == 40.0 and final["time/train_seconds_per_seed"] == 3.0
