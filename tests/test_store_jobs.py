"""Run store and jobs: dedupe, cancel, interrupted runs, NaN, killed worker, damaged files."""
from __future__ import annotations

import dataclasses
import math
import os
import signal
import time

import pytest

from engine import registry
from engine.core import NonFiniteMetric, RunCancelled
from engine.jobs import InlineExecutor, JobManager, ProcessExecutor, StoreReport

TINY = {"train_limit": 2000, "epochs": 1}


def tiny_spec(variant="logreg", **extra):
    return registry.build_spec("dnn", variant, "quick", {**TINY, **extra})


class NoWake:
    def wake(self):
        pass


def test_same_spec_is_one_run(store):
    manager = JobManager(store, NoWake())
    first = manager.submit(tiny_spec())
    second = manager.submit(tiny_spec())
    assert first.run_id == second.run_id and second.status == "queued"
    assert len(store.list_runs()) == 1
    other = manager.submit(registry.build_spec("dnn", "logreg", "quick", TINY, seed=1))
    assert other.run_id != first.run_id


@pytest.mark.slow
def test_finished_run_is_served_from_store_and_force_recomputes(store):
    manager = JobManager(store, InlineExecutor(store))
    first = manager.submit(tiny_spec())
    assert not first.cached and store.get(first.run_id)["status"] == "done"
    finished = store.get(first.run_id)["finished"]
    again = manager.submit(tiny_spec())
    assert again.cached and store.get(first.run_id)["finished"] == finished
    forced = manager.submit(tiny_spec(), force=True)
    assert not forced.cached and store.get(first.run_id)["finished"] > finished


def test_cancel_queued_and_running(store):
    manager = JobManager(store, NoWake())
    queued = manager.submit(tiny_spec())
    manager.cancel(queued.run_id)
    assert store.get(queued.run_id)["status"] == "cancelled"
    # A cancelled run is queued again on the next request.
    assert manager.submit(tiny_spec()).status == "queued"
    run = store.claim_next()
    report = StoreReport(store, run["id"])
    manager.cancel(run["id"])
    with pytest.raises(RunCancelled):
        report.flush()


def test_dead_worker_run_is_marked_interrupted(store):
    manager = JobManager(store, NoWake())
    submission = manager.submit(tiny_spec())
    store.claim_next()
    with store._db(immediate=True) as db:  # pretend the owner was a process that has died
        db.execute("UPDATE runs SET pid = 999999999 WHERE id = ?", (submission.run_id,))
    assert store.recover_interrupted() == [submission.run_id]
    assert store.get(submission.run_id)["status"] == "interrupted"
    assert manager.submit(tiny_spec()).status == "queued"  # and it can be re-queued


@pytest.mark.slow
def test_nan_loss_fails_the_run_with_its_reason(store, monkeypatch):
    real = registry.card

    def nan_run(spec, report):
        report(1, {"train/loss": 0.5})
        report(2, {"train/loss": math.nan})

    monkeypatch.setattr(registry, "card", lambda key: dataclasses.replace(real(key), run=nan_run))
    manager = JobManager(store, InlineExecutor(store))
    run = store.get(manager.submit(tiny_spec()).run_id)
    assert run["status"] == "failed"
    assert run["error"] == "train/loss became nan at step 2"
    with pytest.raises(NonFiniteMetric):
        StoreReport(store, run["id"])(3, {"val/loss": math.inf})


@pytest.mark.slow
def test_killed_worker_loses_nothing_finished(store):
    manager = JobManager(store, ProcessExecutor(store))
    done = JobManager(store, InlineExecutor(store)).submit(tiny_spec("logreg"))
    assert store.get(done.run_id)["status"] == "done"
    long = manager.submit(registry.build_spec("dnn", "mlp", "standard", {"epochs": 50}))
    deadline = time.monotonic() + 60
    while store.get(long.run_id)["status"] != "running" or not store.history(long.run_id):
        assert time.monotonic() < deadline, "the worker never started"
        time.sleep(0.2)
    os.kill(manager.executor.processes[0].pid, signal.SIGKILL)
    manager.executor.processes[0].wait(10)
    manager.store.recover_interrupted()
    assert store.get(long.run_id)["status"] == "interrupted"
    assert store.history(long.run_id), "the history reported before the kill is kept"
    assert store.get(done.run_id)["status"] == "done"
    assert store.artifacts_intact(done.run_id)
    assert JobManager(store, InlineExecutor(store)).submit(tiny_spec("logreg")).cached


@pytest.mark.slow
def test_damaged_artifact_is_detected_and_recomputed(store):
    manager = JobManager(store, InlineExecutor(store))
    first = manager.submit(tiny_spec())
    path = store.folder(first.run_id) / "state_dict.pt"
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    assert not store.artifacts_intact(first.run_id)
    again = manager.submit(tiny_spec())
    assert not again.cached
    assert store.get(first.run_id)["status"] == "done"
    assert store.artifacts_intact(first.run_id)
    assert "state_dict" in store.load_artifacts(first.run_id)


@pytest.mark.slow
def test_delete_removes_rows_and_artifacts(store):
    manager = JobManager(store, InlineExecutor(store))
    run_id = manager.submit(tiny_spec()).run_id
    folder = store.folder(run_id)
    assert folder.exists()
    store.delete(run_id)
    assert store.get(run_id) is None and not store.history(run_id)
    assert not folder.exists()


def test_device_setting_is_explicit_and_checked(monkeypatch):
    """TOP10_DEVICE picks the training device; a GPU that torch cannot see, or a name that
    is no device, is a one-line ConfigError, never a silent fall back to the CPU."""
    import torch

    from engine import settings
    from engine.core import ConfigError

    monkeypatch.setenv("TOP10_DEVICE", "cpu")
    assert settings.device() == torch.device("cpu")
    monkeypatch.setenv("TOP10_DEVICE", "auto")
    assert settings.device().type == ("cuda" if torch.cuda.is_available() else "cpu")
    monkeypatch.setenv("TOP10_DEVICE", "tpu")
    with pytest.raises(ConfigError, match="TOP10_DEVICE='tpu'"):
        settings.device()
    if not torch.cuda.is_available():
        monkeypatch.setenv("TOP10_DEVICE", "cuda")
        with pytest.raises(ConfigError, match="sees no GPU"):
            settings.device()


def test_sidebar_names_a_bad_device_setting_instead_of_failing(monkeypatch):
    from engine import ui

    monkeypatch.setenv("TOP10_DEVICE", "tpu")
    assert ui.training_device().startswith(":material/warning: TOP10_DEVICE='tpu'")
    monkeypatch.setenv("TOP10_DEVICE", "cpu")
    assert ui.training_device() == "CPU"


def test_stale_owner_writes_nothing_after_a_takeover(store, monkeypatch):
    """A trainer paused past the stale limit is taken over; on waking, its artifact and
    manifest writes are refused and the new owner's finished folder is left intact."""
    from engine.store import NotOwner, Store

    spec = tiny_spec()
    manager = JobManager(store, NoWake())
    run_id = manager.submit(spec).run_id
    stale = store.claim_next()
    assert stale["id"] == run_id
    store.mark_interrupted(run_id, "no heartbeat; taken for dead")
    assert manager.submit(spec).status == "queued"
    takeover = Store(store.root)
    monkeypatch.setattr(takeover, "_owner", lambda: (os.getpid() + 1, "elsewhere"))
    assert takeover.claim_next()["id"] == run_id
    digests = takeover.save_artifacts(run_id, {"model": {"w": [1.0, 2.0]}})
    assert takeover.finish(run_id, {"val/acc": 0.5}, 10, 1.0, digests, {})
    finished = store.get(run_id)
    with pytest.raises(NotOwner):
        store.save_artifacts(run_id, {"model": {"w": [9.0]}})
    assert not store.finish(run_id, {"val/acc": 0.1}, 10, 1.0, {"model": "0" * 64}, {})
    assert store.get(run_id) == finished
    assert store.artifacts_intact(run_id)
    assert stale["folder"] != finished["folder"]


@pytest.mark.parametrize("damage", ["status = 'weird'", "metrics = '{not json'",
                                    "spec = '[1, 2]'"])
def test_undecodable_row_is_damage_never_forgotten(store, damage):
    from engine.store import StoreDamaged

    spec = tiny_spec()
    run_id = JobManager(store, InlineExecutor(store)).submit(spec).run_id
    folder = store.folder(run_id)
    with store._db(immediate=True) as db:
        db.execute(f"UPDATE runs SET {damage} WHERE id = ?", (run_id,))
    for attempt in (lambda: store.get(run_id),
                    lambda: JobManager(store, InlineExecutor(store)).submit(spec)):
        with pytest.raises(StoreDamaged) as error:
            attempt()
        assert "\n" not in str(error.value) and "store check" in str(error.value)
    assert store._read("SELECT 1 FROM runs WHERE id = ?", (run_id,)), "the row is kept"
    assert folder.is_dir() and (folder / "manifest.json").is_file()


class FakeWorker:
    """Stands in for a worker process: alive until told otherwise."""
    pids = iter(range(10**6, 10**7))

    def __init__(self):
        self.pid, self.returncode = next(self.pids), None

    def poll(self):
        return self.returncode


def test_the_executor_starts_one_worker_per_queued_run_up_to_its_jobs(store, monkeypatch):
    executor = ProcessExecutor(store, jobs=2)
    monkeypatch.setattr(executor, "_start", FakeWorker)
    manager = JobManager(store, NoWake())
    executor.wake()
    assert len(executor.processes) == 1, "an empty queue still gets a worker (it waits)"
    for seed in range(3):
        manager.submit(registry.build_spec("dnn", "logreg", "quick", TINY, seed=seed))
    executor.wake()
    assert len(executor.processes) == 2, "three queued, two jobs: two workers, no more"
    executor.processes[0].returncode = 0  # one exited (its quiet spell): it is replaced
    executor.wake()
    assert len(executor.processes) == 2 and all(p.poll() is None for p in executor.processes)


def test_an_idle_worker_takes_the_next_run_before_another_starts(store, monkeypatch):
    executor = ProcessExecutor(store, jobs=2)
    monkeypatch.setattr(executor, "_start", FakeWorker)
    executor.wake()  # one worker, idle: nothing is running
    JobManager(store, NoWake()).submit(tiny_spec())
    executor.wake()
    assert len(executor.processes) == 1, "one queued run and one idle worker: it takes it"


def test_one_job_in_public_mode_unless_the_operator_says_more(monkeypatch):
    from engine import settings

    monkeypatch.delenv("TOP10_JOBS", raising=False)
    monkeypatch.setenv("TOP10_THREADS", "1")
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    assert settings.jobs() == 4 and settings.jobs(public=True) == 1
    assert settings.jobs(executor="ray") is None  # the cluster's capacity
    monkeypatch.setenv("TOP10_THREADS", "2")
    assert settings.jobs() == 2
    monkeypatch.setenv("TOP10_JOBS", "3")
    assert settings.jobs(public=True) == 3 and settings.jobs(executor="ray") == 3


@pytest.mark.slow
def test_two_workers_train_two_runs_at_once(store):
    executor = ProcessExecutor(store, jobs=2, idle_exit_seconds=2)
    manager = JobManager(store, executor)
    ids = [manager.submit(registry.build_spec("dnn", "mlp", "quick", {**TINY, "epochs": 3},
                                              seed=seed)).run_id for seed in (1, 2)]
    try:
        deadline = time.monotonic() + 120
        while any(store.get(i)["status"] in ("queued", "running") for i in ids):
            assert time.monotonic() < deadline, "the runs never ended"
            time.sleep(0.3)
    finally:
        executor.stop()
    rows = [store.get(i) for i in ids]
    assert all(r["status"] == "done" for r in rows), [r["error"] for r in rows]
    assert rows[0]["pid"] != rows[1]["pid"], "each run trained in a worker of its own"
    first, second = sorted(rows, key=lambda r: r["started"])
    assert second["started"] < first["finished"], "the two trained at the same time"


# ---- what kills leave behind (issue 26 item 9) --------------------------------------------
def fake_finish(store, run_id, value):
    """Train nothing: claim run_id and record it done with one small artifact."""
    assert store.claim_next(run_id)["id"] == run_id
    digests = store.save_artifacts(run_id, {"model": {"w": [value]}})
    assert store.finish(run_id, {"val/acc": value}, 1, 1.0, digests, {})


def test_a_folder_a_kill_after_a_swap_leaves_is_listed_and_removed(store, capsys):
    """A kill between the commit that swaps a re-run in and the removal of the folder it
    replaced leaves that folder, which no row names: check lists it (repair mends it) and the
    next recovery (the app's poll, any worker's start) removes it; the result stays whole."""
    from engine.cli import main

    manager = JobManager(store, NoWake())
    run_id = manager.submit(tiny_spec()).run_id
    fake_finish(store, run_id, 0.5)
    replaced = store.get(run_id)["folder"]
    retry = manager.submit(tiny_spec(), force=True).work_id
    store._remove_folders = lambda names: None  # killed right after the commit
    fake_finish(store, retry, 0.7)
    del store._remove_folders
    assert (store.artifact_root / replaced).is_dir() and store.get(run_id)["folder"] != replaced
    problems = store.check()
    assert len(problems) == 1 and replaced in problems[0] and "no row names" in problems[0]
    assert main(["store", "check"]) == 1
    assert "store repair` mends 1 of them" in capsys.readouterr().out
    store.recover_interrupted()
    assert not (store.artifact_root / replaced).exists() and store.check() == []
    assert store.artifacts_intact(run_id) and store.get(run_id)["metrics"] == {"val/acc": 0.7}


def test_repair_removes_stale_temp_files_and_unnamed_folders_never_a_live_runs(store, tmp_path,
                                                                               capsys):
    from engine.cli import main

    manager = JobManager(store, NoWake())
    done, killed, live = (manager.submit(registry.build_spec("dnn", "logreg", "quick", TINY, seed=s)
                                         ).run_id for s in (1, 2, 3))
    fake_finish(store, done, 0.5)
    for run_id in (killed, live):
        store.claim_next(run_id)
        store.save_artifacts(run_id, {"model": {"w": [1.0]}})
    store.mark_interrupted(killed, "killed between a temp file and its rename")
    folder = {r: store.artifact_root / store.get(r)["folder"] for r in (done, killed, live)}
    for run_id in folder:
        (folder[run_id] / ".model.pt.tmp").write_bytes(b"half")
    attempt = store.artifact_root / f"{killed}@0badcafe"  # an attempt whose row was replaced
    attempt.mkdir()
    (attempt / ".model.pt.tmp").write_bytes(b"half")
    unreadable = store.artifact_root / f"{done}@feedface"  # damage: reported, never deleted
    unreadable.mkdir()
    (unreadable / "manifest.json").write_text("{not json")
    outside = tmp_path / "outside"  # a crafted row naming a folder outside the store
    outside.mkdir()
    with store._db(immediate=True) as db:
        db.execute("INSERT INTO runs (id, algorithm, variant, spec, status, folder) VALUES"
                   " ('dnn-logreg-0123456789ab', 'dnn', 'logreg', '{}', 'failed', ?)",
                   (f"../../{outside.name}",))
    problems = store.check()
    named = "\n".join(problems)
    assert attempt.name in named
    assert f"{folder[done].name}/.model.pt.tmp" in named
    assert f"{folder[killed].name}/.model.pt.tmp" in named
    assert f"{folder[live].name}/" not in named, "a live run's temp file is its own"
    assert any("manifest cannot be read" in p for p in problems)
    assert main(["store", "repair"]) == 0
    said = capsys.readouterr().out
    assert f"removed folder {attempt.name}" in said and "temporary file" in said
    assert not attempt.exists() and unreadable.is_dir() and outside.is_dir()
    assert not (folder[done] / ".model.pt.tmp").exists()
    assert not (folder[killed] / ".model.pt.tmp").exists()
    assert (folder[live] / ".model.pt.tmp").exists() and (folder[live] / "model.pt").exists()
    assert store.artifacts_intact(done)
    assert [p for p in store.check() if "no row names" in p or "temporary" in p] == []


def test_check_says_what_helps_a_damaged_artifact_instead_of_repair(store, capsys):
    from engine.cli import main

    run_id = JobManager(store, NoWake()).submit(tiny_spec()).run_id
    fake_finish(store, run_id, 0.5)
    path = store.folder(run_id) / "model.pt"
    path.write_bytes(path.read_bytes()[:-4] + b"XXXX")
    (line,) = store.check()
    assert "checksum mismatch" in line and "repair cannot mend it" in line
    assert "python -m engine run dnn --variant logreg --seed 0 --force" in line  # 'custom'
    assert main(["store", "check"]) == 1
    summary = capsys.readouterr().out.splitlines()[-1]
    assert "store repair" not in summary and "each other line says what helps" in summary
