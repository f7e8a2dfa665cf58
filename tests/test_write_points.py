"""Issue 26: kills at the exact write points of the store, and an owner paused past its claim,
taken over and resumed. Each kill test first checks that its worker died at that point
(killed itself there, leaving what that point leaves on disk), so a point that is never
reached fails instead of passing untested; the paused-owner test also runs with the owner
check removed, and must then see the stale write."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine import registry, settings
from engine.bench.faults import lost_results, snapshot, stale_writes, unnamed_folders, wait_stopped
from engine.jobs import InlineExecutor, JobManager, ProcessExecutor
from engine.store import MANIFEST

ROOT = Path(__file__).resolve().parents[1]
TINY = {"train_limit": 1000, "epochs": 1}


def tiny_spec(seed=0):
    return registry.build_spec("dnn", "logreg", "quick", TINY, seed=seed)


class NoWake:
    def wake(self):
        pass


def test_fault_setting_is_off_unless_set_and_refuses_a_typo(monkeypatch):
    monkeypatch.delenv("TOP10_FAULT_AT", raising=False)
    assert settings.fault_at() is None
    monkeypatch.setenv("TOP10_FAULT_AT", "after_manifest")
    assert settings.fault_at() == ("after_manifest", "kill")
    monkeypatch.setenv("TOP10_FAULT_AT", "before_rename:pause")
    assert settings.fault_at() == ("before_rename", "pause")
    for typo in ("after_manfest", "after_swap:sleep"):  # a silent typo would test nothing
        monkeypatch.setenv("TOP10_FAULT_AT", typo)
        with pytest.raises(ValueError, match="TOP10_FAULT_AT"):
            settings.fault_at()


def attempt_files(store, folder_name):
    folder = store.artifact_root / folder_name
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else None


# What each point leaves in the attempt's folder when the worker dies there (a DNN run has
# four artifacts: state_dict, classes, confusion, mistakes).
def no_temp(files):
    return not any(name.endswith(".tmp") for name in files)


LEFT = {
    "before_artifacts": lambda files: files is None,
    "before_rename": lambda files: files == [".state_dict.pt.tmp"],
    "after_artifacts": lambda files: len(files) == 4 and MANIFEST not in files and no_temp(files),
    "after_manifest": lambda files: len(files) == 5 and MANIFEST in files and no_temp(files),
    "after_swap": lambda files: len(files) == 5 and MANIFEST in files and no_temp(files),
}


@pytest.mark.parametrize("point", settings.FAULT_POINTS)
def test_a_kill_at_each_write_point_of_a_recompute_loses_nothing(store, monkeypatch, point):
    """A finished run is re-run (its `.retry` attempt is what the worker trains, so every
    point, the swap included, is on the path) and the worker dies at the point."""
    spec = tiny_spec()
    done = store.get(JobManager(store, InlineExecutor(store)).submit(spec).run_id)
    retry = JobManager(store, NoWake()).submit(spec, force=True).work_id
    attempt_folder = store.get(retry)["folder"]
    monkeypatch.setenv("TOP10_FAULT_AT", point)
    workers = ProcessExecutor(store, jobs=1)
    workers.wake()
    monkeypatch.delenv("TOP10_FAULT_AT")
    assert workers.processes[0].wait(120) == -signal.SIGKILL, "it never reached the point"
    assert LEFT[point](attempt_files(store, attempt_folder)), attempt_files(store, attempt_folder)
    store.recover_interrupted()  # what the app's next poll does, folders no row names included
    assert unnamed_folders(store) == set(), "after the swap the replaced folder is removed"
    assert lost_results(store, {done["id"]}) == []
    assert store.list_runs(status="running") == [] and store.check() == []
    row = store.get(done["id"])
    if point == "after_swap":  # committed: the re-run is the finished run now
        assert row["folder"] == attempt_folder and store.get(retry) is None
        return
    assert row["folder"] == done["folder"] and row["metrics"] == done["metrics"]
    assert store.get(retry)["status"] == "interrupted"
    # Asked again, the re-run trains and is swapped in; the killed attempt's folder is gone.
    again = JobManager(store, InlineExecutor(store)).submit(spec, force=True)
    assert store.get(again.run_id)["status"] == "done" and store.artifacts_intact(done["id"])
    assert attempt_files(store, attempt_folder) is None and store.check() == []


# A worker process like the app's; 'unguarded' removes the owner check (every artifact and
# manifest write of a run checks it still owns the row) to show the test can see a stale write.
WORKER = """import sys
from engine.store import Store
if sys.argv[2] == "unguarded":
    Store._owns = lambda self, db, run_id, name: True
from engine.jobs import worker_main
worker_main(sys.argv[1], idle_exit_seconds=0.5)
"""


@pytest.mark.parametrize("point, guard", [("before_artifacts", True), ("before_rename", True),
                                          ("after_artifacts", True), ("before_artifacts", False)])
def test_a_paused_owner_taken_over_writes_nothing_when_resumed(store, point, guard):
    spec = tiny_spec(seed=1)
    run_id = JobManager(store, NoWake()).submit(spec).run_id
    env = {**os.environ, "TOP10_FAULT_AT": f"{point}:pause",
           "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))}
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(store.root),
                               "guarded" if guard else "unguarded"], env=env)
    try:
        assert wait_stopped(worker, time.monotonic() + 120), "it never paused at the point"
        stale_folder = store.get(run_id)["folder"]
        deadline = time.monotonic() + 30  # silent, not dead: taken over once it is stale
        while store.get(run_id)["status"] == "running" and time.monotonic() < deadline:
            time.sleep(0.2)
            store.recover_interrupted(stale_seconds=1)
        assert store.get(run_id)["status"] == "interrupted"
        takeover = JobManager(store, InlineExecutor(store)).submit(spec)  # this process's own
        assert store.get(run_id)["status"] == "done" and not takeover.cached
        before = snapshot(store)
        os.kill(worker.pid, signal.SIGCONT)
        assert worker.wait(60) == 0  # woke, went on to the end of its run and exited
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    writes = stale_writes(before, snapshot(store))
    if not guard:  # without the check the stale owner records over the takeover, and is seen
        assert f"{run_id}: changed" in writes
        return
    assert writes == []
    assert store.artifacts_intact(run_id) and store.check() == []
    assert store.get(run_id)["folder"] != stale_folder
    assert attempt_files(store, stale_folder) is None  # what it wrote on waking is dropped
