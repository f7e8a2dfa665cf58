"""A phone keeps the sidebar collapsed, where training shows: a compact line at the top of
the main area names this visitor's live runs (issue 27 item 9), and the sidebar's elapsed
seconds read in the visitor's language (item 5)."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from engine import registry
from engine.ui.visitor import visitor_key

SESSION = "a-phone"


def app():
    import streamlit as st

    from engine import ui

    ui.jobs_sidebar(st.sidebar.container())
    ui.running_line(st.container())


def start(store, visitor: str = "") -> str:
    """A quick GNN run queued (by `visitor`) and claimed, with a progress note; no worker."""
    spec = registry.build_spec("gnn", "gcn", "quick")
    run_id = registry.run_id(spec)
    store.enqueue(run_id, spec, visitor=visitor)
    store.claim_next(run_id)
    store.beat(run_id, 0.4, "seed 0, epoch 2/5", [])
    return run_id


def open_app(lang: str) -> AppTest:
    at = AppTest.from_function(app, default_timeout=60)
    at.session_state["visitor_session"] = SESSION  # this visitor's key, as a reload keeps it
    at.query_params["lang"] = lang
    return at.run()


def test_this_visitors_running_job_shows_in_the_main_area_in_both_languages(store):
    start(store, visitor=visitor_key(None, None, None, SESSION))
    at = open_app("en")
    assert not at.exception
    main = [c.value for c in at.main.caption]
    assert any("Training gnn/gcn: seed 0, epoch 2/5 · 40%" in c for c in main), main
    zh = open_app("zh")
    main = [c.value for c in zh.main.caption]
    assert any("正在训练 gnn/gcn：种子 0，轮次 2/5 · 40% · " in c and "秒" in c for c in main), main
    sidebar = [p.proto.text for p in zh.sidebar.get("progress")]
    assert sidebar and all("秒）" in t and " s)" not in t for t in sidebar), sidebar


def test_another_visitors_job_stays_in_the_sidebar(store):
    start(store, visitor="someone-else")
    at = open_app("en")
    assert not at.exception
    assert not any("Training gnn/gcn" in c.value for c in at.main.caption)
    assert at.sidebar.get("progress")  # the sidebar lists every job

