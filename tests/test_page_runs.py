"""AppTest for the Runs page: a finished run can be re-run, delete removes a run with its
artifact folder, filters and sorting work, errors show their first line with the full text
in an expander, a queued run can be cancelled and an interrupted one re-queued (and trains
again)."""
from __future__ import annotations

import pytest

from apptest_tools import open_page
from engine import registry, ui
from engine.jobs import InlineExecutor, JobManager

PAGE = "runs"
TINY = {"train_limit": 2000, "epochs": 1}  # a real DNN run in a few seconds


@pytest.fixture
def inline(store, monkeypatch) -> JobManager:
    """The page's job manager, draining the queue in this process instead of a worker."""
    manager = JobManager(store, InlineExecutor(store))
    monkeypatch.setattr(ui, "manager", lambda: manager)
    return manager


def test_rerun_then_delete_removes_the_run_and_its_artifacts(store, inline, stored_run):
    spec = registry.build_spec("dnn", "logreg", "quick", TINY)
    run_id = inline.submit(spec).run_id
    assert store.get(run_id)["status"] == "done" and any(store.folder(run_id).iterdir())
    other = stored_run("dnn", "mlp", {"hidden": 8}, {"test/acc": 0.5})

    at = open_page(PAGE, 60).run()
    assert not at.exception, at.exception[0].value
    assert set(at.dataframe[0].value.index) == {run_id, other["id"]}
    at.multiselect(key="runs:chosen").set_value([run_id]).run()
    before = store.get(run_id)["finished"]
    at.button(key="runs:rerun").click().run()  # trains again, inline here
    assert at.success[0].value == "Runs queued to train again: 1."
    assert store.get(run_id)["status"] == "done" and store.get(run_id)["finished"] > before
    folder = store.folder(run_id)  # the new attempt's folder, swapped in when it was done
    assert at.button(key="runs:delete").label == "Delete (1)"
    at.button(key="runs:delete").click().run()  # asks first
    assert store.get(run_id) and folder.exists()
    assert at.warning[0].value.startswith("Runs to delete: 1, with their metric history")
    at.button(key="runs:keep").click().run()
    assert not at.warning and store.get(run_id)
    at.button(key="runs:delete").click().run()
    at.button(key="runs:confirm_delete").click().run()
    assert not at.exception
    assert at.success[0].value == "Runs deleted, with their artifact folders: 1."
    assert store.get(run_id) is None and not store.history(run_id)
    assert not folder.exists()
    assert list(at.dataframe[0].value.index) == [other["id"]]
    assert at.multiselect(key="runs:chosen").value == []


def test_filter_sort_and_errors(store, inline, stored_run):
    done = stored_run("dnn", "mlp", {"hidden": 8}, {"test/acc": 0.5})
    failed = stored_run("dnn", "deep", {"hidden": 8}, None, status="failed",
                        preset="standard")
    queued = stored_run("dnn", "logreg", {"hidden": 8}, None, status="queued")

    at = open_page(PAGE, 60).run()
    assert not at.exception
    assert list(at.dataframe[0].value.index) == [queued["id"], failed["id"], done["id"]]
    at.selectbox(key="runs:sort").set_value("oldest first").run()
    assert list(at.dataframe[0].value.index) == [done["id"], failed["id"], queued["id"]]
    at.multiselect(key="runs:filter:status").set_value(["failed"]).run()
    table = at.dataframe[0].value
    assert list(table.index) == [failed["id"]] and table.at[failed["id"], "error"] == "failed here"
    assert at.subheader[0].value == "Errors"
    assert at.error[0].value.endswith(": failed here")
    assert at.expander[0].label == "Full error text"
    assert at.code[0].value == "failed here\nTraceback line 1\nline 2"
    at.multiselect(key="runs:filter:status").set_value([])
    at.multiselect(key="runs:filter:preset").set_value(["quick"]).run()
    assert set(at.dataframe[0].value.index) == {done["id"], queued["id"]}

    # Cancel: only the queued run fits, and it stops at once.
    at.multiselect(key="runs:chosen").set_value([done["id"], queued["id"]]).run()
    assert at.button(key="runs:cancel").label == "Cancel (1)"
    assert at.button(key="runs:requeue").disabled
    at.button(key="runs:cancel").click().run()
    assert at.success[0].value == "Runs asked to stop: 1."
    assert store.get(queued["id"])["status"] == "cancelled"
    assert store.get(done["id"])["status"] == "done"


def test_interrupted_run_is_requeued_and_trains(store, inline, stored_run):
    spec = registry.build_spec("dnn", "logreg", "quick", TINY)
    run = stored_run("dnn", "logreg", spec.config, None, preset=spec.preset,
                     status="interrupted", run_id=registry.run_id(spec))
    at = open_page(PAGE, 60).run()
    at.multiselect(key="runs:chosen").set_value([run["id"]]).run()
    assert at.error[0].value == "interrupted here"  # the chosen run's first error line
    at.button(key="runs:requeue").click().run()
    assert not at.exception
    assert at.success[0].value == "Runs queued again: 1."
    again = store.get(run["id"])
    assert again["status"] == "done", again["error"]
    assert again["metrics"]["test/acc"] > 0.5
    assert at.dataframe[0].value.at[run["id"], "status"] == "done"


def test_delete_of_a_shipped_run_says_so_and_asks_nothing(store, stored_run, tmp_path,
                                                          monkeypatch):
    from engine import shipped

    spec = registry.build_spec("dnn", "mlp", "quick")
    run = stored_run("dnn", "mlp", spec.config, {"test/acc": 0.9}, run_id=registry.run_id(spec))
    shipped.export(store, tmp_path / "ship", preset="quick")
    store.delete(run["id"])  # now only the shipped copy is left
    monkeypatch.setenv("TOP10_STORE_MIRROR", str(tmp_path / "ship"))
    at = open_page(PAGE, 60).run()
    at.multiselect(key="runs:chosen").set_value([run["id"]]).run()
    at.button(key="runs:delete").click().run()
    assert not at.exception
    assert not any(b.key == "runs:confirm_delete" for b in at.button)  # no "cannot be undone"
    assert [w.value for w in at.warning] == [
        "Shipped results left as they are: 1. Shipped runs are read-only"]
