"""Issue 15 on the pages: a damaged index is one message on Home, Runs and Compare; a read-only
store is listed; the Runs page marks a silent run interrupted and shows a failed recompute."""
from __future__ import annotations

import time

import pytest

from apptest_tools import open_page
from engine import store as store_module
from engine.markup import escape_markdown
from engine.store import Store


@pytest.mark.parametrize("page", ["runs", "compare"])
def test_damaged_index_is_one_message(store_dir, page):
    Store(store_dir)
    (store_dir / "runs.sqlite").write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        (store_dir / f"runs.sqlite{suffix}").unlink(missing_ok=True)
    at = open_page(page).run()
    assert not at.exception, at.exception[0].value if at.exception else ""
    assert len(at.error) == 1 and "store repair" in at.error[0].value
    # the path as the page writes it: Markdown-escaped, so a folder name cannot format
    assert escape_markdown(store_dir / "runs.sqlite", 2000) in at.error[0].value


def test_read_only_store_is_listed(store, stored_run, monkeypatch):
    run = stored_run("dnn", "mlp", {"hidden": 8}, {"test/acc": 0.5})
    monkeypatch.setattr(store_module, "_writable", lambda folder: False)
    at = open_page("runs").run()
    assert not at.exception
    assert list(at.dataframe[0].value.index) == [run["id"]]


def test_runs_page_marks_a_silent_run_interrupted(store, stored_run):
    run = stored_run("dnn", "mlp", {"hidden": 8}, None, status="running")
    with store._db(immediate=True) as db:  # a live owner on another host, silent for now
        db.execute("UPDATE runs SET host = 'elsewhere', heartbeat = ? WHERE id = ?",
                   (time.time(), run["id"]))
    at = open_page("runs").run()
    at.multiselect(key="runs:chosen").set_value([run["id"]]).run()
    at.button(key="runs:interrupt").click().run()
    assert not at.exception
    assert at.success[0].value == "Runs marked interrupted: 1."
    assert store.get(run["id"])["status"] == "interrupted"
