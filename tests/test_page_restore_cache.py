"""A page rebuilds each finished run's model once, through ui.restored, however often the
visitor changes a widget; damaged stored files give the one warning and no model."""
from __future__ import annotations

import pytest

import engine.inspect
from apptest_tools import open_page
from engine import registry
from engine.jobs import InlineExecutor, JobManager


@pytest.mark.slow
def test_a_widget_change_does_not_rebuild_the_models(store, store_dir, monkeypatch):
    manager = JobManager(store, InlineExecutor(store))
    for variant in registry.card("cnn").variants:  # what the page shows at the quick preset
        assert store.get(manager.submit(registry.build_spec("cnn", variant, "quick")).run_id)
    restores = []
    real = engine.inspect.restore

    def counting(run, artifacts):
        restores.append(run["id"])
        return real(run, artifacts)

    monkeypatch.setattr(engine.inspect, "restore", counting)
    at = open_page("cnn", 120).run()
    at.segmented_control(key="cnn:preset").set_value("quick").run()
    assert not at.exception
    assert len(restores) == 3 and len(set(restores)) == 3  # one per run
    at.number_input(key="cnn:maps_index").set_value(5).run()  # a widget change: a rerun
    at.selectbox(key="cnn:maps_variant").set_value("lenet5").run()
    assert not at.exception
    assert len(restores) == 3  # still one per run, not one per rerun
