"""Public mode: each refusal is one clear line and queues nothing; off by default."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from apptest_tools import open_page
from engine import registry
from engine.core import ConfigError
from engine.public import Policy


def specs(preset="quick", variants=("mlp",)):
    return [registry.build_spec("dnn", v, preset) for v in variants]


def test_off_by_default(monkeypatch):
    monkeypatch.delenv("TOP10_PUBLIC", raising=False)
    rules = Policy.from_settings({})
    assert not rules.public
    assert rules.refuse_training(specs("full", ("mlp", "deep")), [True, True], 5, 50) is None
    assert rules.refuse_action("delete", ["x"], set()) is None


def test_settings_from_env_or_secrets(monkeypatch):
    monkeypatch.delenv("TOP10_PUBLIC", raising=False)
    monkeypatch.delenv("TOP10_PUBLIC_QUEUE", raising=False)
    assert Policy.from_settings({"TOP10_PUBLIC": "true", "TOP10_PUBLIC_QUEUE": 5}) == \
        Policy(True, 5)
    monkeypatch.setenv("TOP10_PUBLIC", "1")
    assert Policy.from_settings({"TOP10_PUBLIC": "0"}).public  # the environment wins
    monkeypatch.setenv("TOP10_PUBLIC_QUEUE", "lots")
    with pytest.raises(ConfigError, match="TOP10_PUBLIC_QUEUE"):
        Policy.from_settings({})


RULES = Policy(public=True, queue_cap=2)


def test_full_preset_is_refused():
    why = RULES.refuse_training(specs("full"), [True], 0, 0)
    assert why.startswith("Public mode: only the quick and standard presets")
    assert RULES.refuse_training(specs("standard"), [True], 0, 0) is None


def test_one_run_per_visitor():
    assert "one run at a time" in RULES.refuse_training(specs(variants=("mlp", "deep")),
                                                        [True, True], 0, 0)
    assert "one run at a time" in RULES.refuse_training(specs(), [True], 1, 1)
    # what is served from the store (or shared with a live run) trains nothing: allowed
    assert RULES.refuse_training(specs("full", ("mlp", "deep")), [False, False], 1, 2) is None


def test_global_queue_cap():
    assert "queue is full (2 of 2)" in RULES.refuse_training(specs(), [True], 0, 2)


def test_actions_only_on_own_runs():
    assert "only runs you started" in RULES.refuse_action("delete", ["a", "b"], {"a"})
    assert RULES.refuse_action("cancel", ["a"], {"a"}) is None


def test_page_refuses_full_and_queues_nothing(store, store_dir, monkeypatch):
    monkeypatch.setenv("TOP10_PUBLIC", "1")
    monkeypatch.setattr("engine.jobs.ProcessExecutor.wake", lambda self: None)  # no worker
    at = open_page("dnn").run()
    at.segmented_control(key="dnn:preset").set_value("full").run()
    at.button[0].click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        ("Public mode: only the quick and standard presets can be trained here "
         "(logreg, mlp, deep asked for another).")]
    assert store.list_runs() == []
    at.segmented_control(key="dnn:preset").set_value("quick").run()
    at.button[0].click().run()  # three variants at once: still one run per visitor
    assert "one run at a time" in at.error[0].value and store.list_runs() == []
    at.multiselect(key="dnn:variants").set_value(["mlp"])
    at.button[0].click().run()
    assert not at.error, at.error[0].value
    assert [r["variant"] for r in store.list_runs(status="queued")] == ["mlp"]
    assert any(b.label == "Cancel" for b in at.button)  # their own run: cancel offered


def test_runs_page_refuses_others_runs(store, store_dir, stored_run, monkeypatch):
    monkeypatch.setenv("TOP10_PUBLIC", "1")
    run = stored_run("dnn", "mlp", {"hidden": 8}, {"test/acc": 0.5})

    def app():
        import streamlit as st

        from engine import ui

        manager = ui.manager()
        summary, *lines = ui.apply_action(manager, "delete", manager.store.list_runs())
        st.text("\n".join(lines) if not summary else "a success: " + summary)

    at = AppTest.from_function(app, default_timeout=60).run()
    assert not at.exception
    assert at.text[0].value == ("Public mode: you can delete only runs you started in this "
                                "session (1 selected were not).")
    assert store.get(run["id"]) is not None


def test_homes_train_all_refusal_stays_on_screen(store, store_dir, monkeypatch):
    monkeypatch.setenv("TOP10_PUBLIC", "1")
    monkeypatch.setattr("engine.jobs.ProcessExecutor.wake", lambda self: None)  # no worker
    from apptest_tools import HOME

    at = AppTest.from_file(HOME, default_timeout=60).run()
    next(b for b in at.button if b.label == "Train all (quick)").click().run()
    assert not at.exception
    assert any("one run at a time" in e.value for e in at.error)  # a rerun used to wipe it
    assert store.list_runs() == []
