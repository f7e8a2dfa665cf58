"""Every algorithm page loads in an empty store: its card's title, no exception, and each
variant says it is not trained yet (the LSTM and Transformer pages also offer the other
family's run on the same task)."""
from __future__ import annotations

import pytest

from apptest_tools import open_page
from engine import registry

RIVAL = {"lstm": "Train the Transformer on charlm", "transformer": "Train the LSTM on charlm"}


@pytest.mark.parametrize("key", registry.KEYS)
def test_page_loads_without_runs(key, store_dir):
    at = open_page(key).run()
    assert not at.exception, at.exception
    assert at.title[0].value == registry.card(key).title
    assert any("not trained yet" in c.value for c in at.caption)
    if key in RIVAL:
        assert any(b.label.startswith(RIVAL[key]) for b in at.button)


@pytest.mark.parametrize("key", ["lstm", "transformer"])
def test_the_form_shows_only_the_chosen_tasks_fields(key, store_dir):
    at = open_page(key).run()
    shown = {w.key for w in at.number_input}
    assert f"{key}:standard:steps" in shown and f"{key}:standard:sent_epochs" not in shown
    assert f"{key}:standard:weight_decay" in shown  # shared by both tasks
    at.segmented_control(key=f"{key}:task").set_value("sentiment").run()
    assert not at.exception
    shown = {w.key for w in at.number_input}
    assert f"{key}:standard:sent_epochs" in shown and f"{key}:standard:steps" not in shown
    assert any("sentiment" in c.value or "not trained yet" in c.value for c in at.caption)


def test_how_it_works_opens_on_a_first_visit_only(store_dir):
    at = open_page("gnn", 60).run()
    assert at.expander[0].label == "How it works" and at.expander[0].proto.expanded
    at.run()  # any later run of the page in this session: the form comes first
    assert not at.expander[0].proto.expanded


@pytest.mark.parametrize("key", registry.KEYS)
def test_a_link_seed_out_of_range_is_clamped_not_a_traceback(key, store_dir):
    at = open_page(key)
    at.query_params.update(preset="quick", seed="2147483648")
    at.run()
    assert not at.exception, at.exception
    assert at.number_input(key=f"{key}:seed").value == 2**31 - 1
    at = open_page(key)
    at.query_params.update(preset="quick", seed="٣")  # not ASCII digits: ignored
    at.run()
    assert not at.exception and at.number_input(key=f"{key}:seed").value == 0



@pytest.mark.parametrize("error", ["data", "store", "config"])
def test_a_page_ending_in_a_data_or_store_error_shows_one_line(error, store_dir):
    """The boundary in ui.navigate(): the page that the address names raises; the visitor
    sees its one-line message, not an exception box."""
    from streamlit.testing.v1 import AppTest

    def script(error):
        import streamlit as st

        from engine import ui
        from engine.core import ConfigError
        from engine.data import DataMissing
        from engine.store import StoreDamaged

        class Failing:  # what st.navigation returns, with a page that raises
            def run(self):
                raise {"data": DataMissing("MNIST", ["/x"], "offline"),
                       "store": StoreDamaged("the run store index is damaged; run repair"),
                       "config": ConfigError("error.dqn_buffer", buffer=1, batch=2)}[error]

        real, st.navigation = st.navigation, lambda *a, **k: Failing()
        try:
            ui.navigate()
        finally:
            st.navigation = real  # the module is shared with every later AppTest

    at = AppTest.from_function(script, args=(error,), default_timeout=60).run()
    assert not at.exception, at.exception
    assert [e.value.replace("\\", "").split(" ")[0] for e in at.error] == [  # escaped Markdown
        {"data": "MNIST", "store": "the", "config": "buffer_size"}[error]]


def test_empty_choices_say_so_in_the_visitors_language(store_dir):
    at = open_page("dnn", 60)
    at.query_params["lang"] = "zh"
    at.run()
    assert at.multiselect(key="dnn:variants").proto.placeholder == "请选择"  # not "Choose options"


def test_a_page_reached_by_a_bare_link_reopens_on_the_last_preset_chosen(store_dir):
    at = open_page("gnn", 60).run()
    at.segmented_control(key="gnn:preset").set_value("quick").run()
    assert "quick" in at.query_params["preset"]
    # Away and back through the sidebar: its link has only ?lang=, and the page's widgets
    # went with the page; what the session remembered is all that is left.
    back = open_page("gnn", 60)
    back.session_state["url:gnn"] = at.session_state["url:gnn"]
    back.query_params["lang"] = "en"
    back.run()
    assert not back.exception
    assert back.segmented_control(key="gnn:preset").value == "quick"


@pytest.mark.parametrize("key", ["resnet", "gan", "diffusion", "dqn"])
def test_pages_say_where_the_article_is_wrong(key, store_dir):
    at = open_page(key, 60).run()
    box = next(e for e in at.expander if e.label == "What the article gets wrong")
    lines = [m.value for m in box.markdown]
    assert lines[0].startswith("**The article says:**") and lines[1].startswith("**In fact:**")


def test_after_a_reload_a_bare_link_opens_on_the_visitors_own_run(store, monkeypatch):
    """A reload ends the session (and what it remembered), not the visitor: a run of seed 1
    trained in an earlier session is what its page opens on, through the sidebar's bare link."""
    from engine import ui
    from engine.jobs import InlineExecutor, JobManager
    from engine.ui.visitor import visitor_key

    manager = JobManager(store, InlineExecutor(store))
    monkeypatch.setattr(ui, "manager", lambda: manager)
    spec = registry.build_spec("dnn", "mlp", "quick", {"train_limit": 2000, "epochs": 1}, seed=1)
    manager.submit(spec, visitor=visitor_key(None, None, None, "tab-1"))  # trains it inline
    at = open_page("dnn", 60)
    at.session_state["visitor_session"] = "tab-1"  # the same browser, a new session
    at.query_params["lang"] = "en"
    at.run()
    assert not at.exception, at.exception
    assert at.segmented_control(key="dnn:preset").value == "quick"
    assert at.number_input(key="dnn:seed").value == 1
    assert at.multiselect(key="dnn:variants").value == ["mlp"]
    assert any(registry.run_id(spec) in c.value for c in at.caption)
    # a visitor with no runs of their own opens on the defaults
    other = open_page("dnn", 60)
    other.query_params["lang"] = "en"
    other.run()
    assert other.number_input(key="dnn:seed").value == 0


def test_values_a_link_gets_wrong_are_named_not_dropped_in_silence(store_dir):
    at = open_page("dnn", 60)
    at.query_params.update(lang="zh", preset="quick", epochs="many", seed="٣", variants="mlp,nope")
    at.run()
    assert not at.exception, at.exception
    notes = [c.value for c in at.caption if "链接里" in c.value]
    assert notes == [":material/link_off: 链接里 epochs, seed, variants 的取值不适用于本页，因此改用默认值。"]
    assert at.number_input(key="dnn:quick:epochs").value == 2  # the quick preset's own
    good = open_page("dnn", 60)
    good.query_params.update(preset="quick", epochs="3")
    good.run()
    assert not any("does not fit" in c.value for c in good.caption)
    bad = open_page("dnn", 60)
    bad.query_params.update(preset="huge")
    bad.run()
    assert any("value for preset does not fit" in c.value for c in bad.caption)
