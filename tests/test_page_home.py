"""AppTest for Home.py: navigation lists every page, the cards show stored results,
and "Train all (quick)" queues every variant with one overall progress display."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine import registry
from engine.jobs import InlineExecutor, JobManager

HOME = str(Path(__file__).resolve().parents[1] / "Home.py")


def test_home_without_runs(store_dir):
    at = AppTest.from_file(HOME, default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "Deep Learning Top-10"
    assert any("not trained yet" in c.value for c in at.caption)
    assert any("Nothing stored yet" in i.value for i in at.info)


@pytest.mark.slow
def test_home_shows_best_stored_result(store, store_dir):
    manager = JobManager(store, InlineExecutor(store))
    spec = registry.build_spec("dnn", "mlp", "quick", {"train_limit": 3000, "epochs": 1})
    run = store.get(manager.submit(spec).run_id)
    at = AppTest.from_file(HOME, default_timeout=60).run()
    assert not at.exception
    shown = [m for m in at.metric if m.label == "best test accuracy"]
    assert shown and shown[0].value == f"{100 * run['metrics']['test/acc']:.2f}%"


def sidebar_app():
    """Home.py's shared sidebar plus the Train-all button (AppTest reruns only the page
    file after the first run of a navigation app, so the sidebar is tested on its own)."""
    import streamlit as st

    from engine import ui

    if st.button("Train all (quick)"):
        ui.train_all("quick")
    ui.jobs_sidebar(st.sidebar)


def test_train_all_queues_every_variant(store, store_dir, monkeypatch):
    monkeypatch.setattr("engine.jobs.ProcessExecutor.wake", lambda self: None)  # no worker
    at = AppTest.from_function(sidebar_app, default_timeout=60).run()
    assert any(c.value == "No training in progress." for c in at.sidebar.caption)
    assert any(c.value.startswith("Training runs on: ") for c in at.sidebar.caption)
    at.button[0].click().run()
    assert not at.exception
    expected = sum(len(registry.card(k).variants) for k in registry.KEYS)
    assert len(store.list_runs(status="queued")) == expected
    texts = [p.proto.text for p in at.sidebar.get("progress")]
    assert f"Train all (quick): 0/{expected} done" in texts, texts
    next(b for b in at.sidebar.button if b.label == "Cancel train all").click().run()
    assert len(store.list_runs(status="cancelled")) == expected


def test_across_algorithms_draws_one_metric_per_chart(store, stored_run, store_dir):
    """The LSTM's loss (lower is better) and Word2Vec's correlation (higher is better) are
    both Sequences headlines: each gets its own charts, never one shared axis."""
    import json

    stored_run("lstm", "lstm", registry.build_spec("lstm", "lstm", "quick").config,
               {"val/loss": 1.6})
    stored_run("word2vec", "cbow", registry.build_spec("word2vec", "cbow", "quick").config,
               {"eval/wordsim353": 0.4})
    at = AppTest.from_file(HOME, default_timeout=60).run()
    assert not at.exception
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")
              if "title" in json.loads(c.proto.spec)["layout"]]
    crossed = [t for t in titles if t.startswith("Sequences")]
    assert len(crossed) == 4, titles  # two metrics, each against seconds and parameters
    assert len({t.split(" against ")[0] for t in crossed}) == 2, crossed
