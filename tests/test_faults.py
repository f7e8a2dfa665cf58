"""Issue 15: killed and silent workers, recompute that must not destroy, damaged and read-only
stores, waiting processes, unchecked ids. Each test failed before the fix it names."""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from engine import registry
from engine import store as store_module
from engine.core import ConfigError, RunCancelled
from engine.jobs import InlineExecutor, JobManager, StoreReport, execute
from engine.store import Store, StoreDamaged, StoreReadOnly

ROOT = Path(__file__).resolve().parents[1]
TINY = {"train_limit": 2000, "epochs": 1}


def tiny_spec(variant="logreg", seed=0):
    return registry.build_spec("dnn", variant, "quick", TINY, seed=seed)


class NoWake:
    def wake(self):
        pass


def finished(store, variant="logreg", seed=0):
    submission = JobManager(store, InlineExecutor(store)).submit(tiny_spec(variant, seed))
    run = store.get(submission.run_id)
    assert run["status"] == "done"
    return run


def own_by(store, run_id, pid, host, heartbeat):
    with store._db(immediate=True) as db:
        db.execute("UPDATE runs SET pid = ?, host = ?, heartbeat = ? WHERE id = ?",
                   (pid, host, heartbeat, run_id))


# ---- 1. stranded runs ----------------------------------------------------------------
def test_silent_run_of_another_host_or_a_reused_pid_is_recovered(store, monkeypatch):
    manager = JobManager(store, NoWake())
    other_host = manager.submit(tiny_spec(seed=1)).run_id
    reused_pid = manager.submit(tiny_spec(seed=2)).run_id
    alive = manager.submit(tiny_spec(seed=3)).run_id
    for _ in range(3):
        store.claim_next()
    old = time.time() - 3600
    own_by(store, other_host, 12345, "a-container-that-is-gone", old)
    own_by(store, reused_pid, os.getpid(), os.uname().nodename, old)  # a live pid, wrong owner
    own_by(store, alive, 12345, "another-host", time.time())  # beating: left alone
    monkeypatch.setenv("TOP10_STALE_SECONDS", "60")
    assert sorted(store.recover_interrupted()) == sorted([other_host, reused_pid])
    assert store.get(other_host)["status"] == "interrupted"
    assert "no heartbeat" in store.get(reused_pid)["error"]
    assert store.get(alive)["status"] == "running"
    assert manager.mark_interrupted(alive)  # the Runs page's way out of a silent run
    assert store.get(alive)["status"] == "interrupted"


def test_a_job_beats_while_it_reports_nothing(store, monkeypatch):
    """The side thread keeps the heartbeat fresh during a long silent stretch (data loading)."""
    monkeypatch.setattr("engine.jobs.HEARTBEAT_SECONDS", 0.05)
    real = registry.card
    beats = []

    def silent(spec, report):
        first = store.get(run_id)["heartbeat"]
        time.sleep(0.5)
        beats.append(store.get(run_id)["heartbeat"] - first)
        raise RunCancelled()

    monkeypatch.setattr(registry, "card", lambda key: dataclasses.replace(real(key), run=silent))
    run_id = JobManager(store, NoWake()).submit(tiny_spec()).run_id
    execute(store, store.claim_next(run_id))
    assert beats[0] > 0.2


def test_a_hung_training_is_given_up_while_a_slow_one_is_not(store, monkeypatch):
    """Issue 26: the heartbeat thread kept a hung training 'running' forever. With no report
    or progress for TOP10_HUNG_SECONDS the run is marked interrupted with the reason and
    on_hung runs (a worker exits there); a run that keeps reporting is left to finish."""
    monkeypatch.setattr("engine.jobs.HEARTBEAT_SECONDS", 0.05)
    monkeypatch.setenv("TOP10_HUNG_SECONDS", "1")
    real = registry.card
    seen = {}

    def hangs(spec, report):
        time.sleep(1.8)  # silent: no report, no progress
        seen["row"] = store.get(spec_id)
        raise RunCancelled()

    def slow(spec, report):
        for i in range(12):  # 2.4 s in all, never 1 s without a word
            time.sleep(0.2)
            report.progress(i, 12, "still going")
        seen["slow"] = store.get(slow_id)["status"]
        raise RunCancelled()

    manager = JobManager(store, NoWake())
    monkeypatch.setattr(registry, "card", lambda key: dataclasses.replace(real(key), run=hangs))
    spec_id = manager.submit(tiny_spec(seed=5)).run_id
    hung = []
    execute(store, store.claim_next(spec_id), on_hung=lambda: hung.append(True))
    assert hung == [True]
    assert seen["row"]["status"] == "interrupted" and "hung" in seen["row"]["error"]
    assert store.get(spec_id)["status"] == "interrupted"  # its late end writes nothing

    monkeypatch.setattr(registry, "card", lambda key: dataclasses.replace(real(key), run=slow))
    slow_id = manager.submit(tiny_spec(seed=6)).run_id
    execute(store, store.claim_next(slow_id), on_hung=lambda: hung.append(True))
    assert seen["slow"] == "running" and hung == [True]


def test_stale_seconds_setting_is_checked(monkeypatch):
    from engine import settings

    monkeypatch.setenv("TOP10_STALE_SECONDS", "abc")
    with pytest.raises(ConfigError, match="TOP10_STALE_SECONDS"):
        settings.stale_seconds()
    monkeypatch.setenv("TOP10_STALE_SECONDS", "600")
    assert settings.stale_seconds() == 600
    monkeypatch.setenv("TOP10_STALE_SECONDS", "5")  # below 3 heartbeats: said, not raised
    with pytest.raises(ConfigError, match="TOP10_STALE_SECONDS='5'.* 15 or more"):
        settings.stale_seconds()


def test_store_setting_naming_a_file_is_one_line(tmp_path, monkeypatch, capsys):
    from engine.cli import main

    monkeypatch.setenv("TOP10_STORE", str(tmp_path / "notes.txt"))
    (tmp_path / "notes.txt").write_text("not a store")
    for args in (["runs"], ["store", "check"]):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "names a file" in err and "Traceback" not in err


# ---- 2. recompute never destroys ----------------------------------------------------
def test_failed_or_cancelled_recompute_keeps_the_finished_result(store, monkeypatch):
    done = finished(store)
    folder = store.folder(done["id"])
    real = registry.card

    def broken(spec, report):
        report(1, {"train/loss": 1.0})
        raise RuntimeError("out of memory, say")

    monkeypatch.setattr(registry, "card", lambda key: dataclasses.replace(real(key), run=broken))
    manager = JobManager(store, InlineExecutor(store))
    forced = manager.submit(tiny_spec(), force=True)
    assert forced.work_id == done["id"] + ".retry" and forced.status == "failed"
    kept = store.get(done["id"])
    assert kept["status"] == "done" and kept["metrics"] == done["metrics"]
    assert store.load_artifacts(done["id"]) and folder.exists()
    assert store.history(done["id"]) and len(store.history(forced.work_id)) == 1
    assert store.attempt(done["id"])["status"] == "failed"  # visible as a failed attempt
    # Re-run, then Cancel: still the finished result.
    queued = JobManager(store, NoWake()).submit(tiny_spec(), force=True)
    manager.cancel(done["id"])
    assert store.get(queued.work_id)["status"] == "cancelled"
    assert store.get(done["id"])["metrics"] == done["metrics"]


def test_successful_recompute_is_swapped_in_whole(store):
    done = finished(store)
    old_folder = store.folder(done["id"])
    forced = JobManager(store, InlineExecutor(store)).submit(tiny_spec(), force=True)
    new = store.get(done["id"])
    assert new["status"] == "done" and new["finished"] > done["finished"]
    assert store.get(forced.work_id) is None and not store.history(forced.work_id)
    assert store.folder(done["id"]) != old_folder and not old_folder.exists()
    assert store.artifacts_intact(done["id"]) and store.history(done["id"])
    manifest = json.loads((store.folder(done["id"]) / "manifest.json").read_text())
    assert manifest["run_id"] == done["id"] and manifest["status"] == "done"


def test_damaged_artifact_with_missing_data_keeps_the_result(store, monkeypatch):
    from engine.data import DataMissing

    done = finished(store)
    path = store.folder(done["id"]) / "state_dict.pt"
    path.write_bytes(path.read_bytes()[:-1] + b"!")
    real = registry.card

    def no_data(spec, report):
        raise DataMissing("MNIST is not available. Looked in: nowhere")

    monkeypatch.setattr(registry, "card", lambda key: dataclasses.replace(real(key), run=no_data))
    JobManager(store, InlineExecutor(store)).submit(tiny_spec())
    assert store.get(done["id"])["status"] == "done"
    assert store.get(done["id"])["metrics"] == done["metrics"]
    assert "MNIST is not available" in store.attempt(done["id"])["error"]


# ---- 3. damaged database ------------------------------------------------------------
def test_a_bad_row_is_skipped_with_a_warning(store, caplog):
    good = finished(store)
    bad = finished(store, seed=1)
    with store._db(immediate=True) as db:
        db.execute("UPDATE runs SET metrics = '{broken' WHERE id = ?", (bad["id"],))
        db.execute("INSERT INTO runs (id, algorithm, variant, spec, status) VALUES"
                   " ('nomodule-x-0123456789ab', 'nomodule', 'x', '{}', 'done')")
    with caplog.at_level(logging.WARNING):
        listed = [r["id"] for r in store.list_runs()]
    assert good["id"] in listed and bad["id"] not in listed
    assert any(bad["id"] in message for message in caplog.messages)
    from engine.cli import main

    assert main(["runs"]) == 0  # an algorithm without a module does not stop the listing
    assert any(bad["id"] in line for line in store.check())


@pytest.mark.parametrize("damage", ["truncate", "header", "zero"])
def test_a_damaged_index_is_one_message_and_repair_rebuilds_it(store_dir, damage, capsys):
    store = Store(store_dir)
    run = finished(store)
    history = store.history(run["id"])
    db = sqlite3.connect(store.path)  # closed before the damage: an open reader held the
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # log's locks, and each open waited 30 s
    db.close()
    data = store.path.read_bytes()
    store.path.write_bytes({"truncate": data[: len(data) // 2], "header": b"garbage!" + data[8:],
                            "zero": b""}[damage])
    with pytest.raises(StoreDamaged, match="runs.sqlite.*store repair"):
        Store(store_dir).list_runs()
    from engine.cli import main

    for command in (["runs"], ["run", "dnn", "--variant", "logreg", "--preset", "quick"]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "store repair" in err and "Traceback" not in err
    assert main(["store", "check"]) == 1
    assert main(["store", "repair"]) == 0
    capsys.readouterr()
    repaired = Store(store_dir).get(run["id"])
    assert repaired["status"] == "done" and repaired["metrics"] == run["metrics"]
    assert Store(store_dir).load_artifacts(run["id"])
    assert [tuple(h) for h in Store(store_dir).history(run["id"])] == history
    if damage != "zero":
        assert list(store_dir.glob("runs.sqlite.damaged-*")), "the damaged file is kept aside"
    assert main(["store", "check"]) == 0


# ---- 4. read-only store ----------------------------------------------------------------
@pytest.mark.parametrize("unwritable", [False, True])
def test_a_read_only_store_can_be_read_not_trained_into(store_dir, monkeypatch, unwritable):
    run = finished(Store(store_dir))
    if unwritable:  # the folder itself cannot be written (as root, chmod does not stop us)
        monkeypatch.setattr(store_module, "_writable", lambda folder: False)
    before = sorted(p.name for p in store_dir.iterdir())
    readonly = Store(store_dir, read_only=True)
    assert [r["id"] for r in readonly.list_runs()] == [run["id"]]
    assert readonly.load_artifacts(run["id"]) and readonly.history(run["id"])
    manager = JobManager(readonly, NoWake())
    assert manager.submit(tiny_spec()).cached
    with pytest.raises(StoreReadOnly, match="read-only"):
        manager.submit(tiny_spec(seed=5))
    if unwritable:  # not even a WAL index file (a writable folder may get one: no harm)
        assert sorted(p.name for p in store_dir.iterdir()) == before
    assert Store(store_dir / "never-made", read_only=True).list_runs() == []


@pytest.mark.slow  # seconds: a fresh Python (imports torch) or a whole corpus
def test_an_unwritable_store_reads_the_log_a_dead_writer_left(store_dir, monkeypatch):
    """A writer that died with its connection open leaves commits only in the WAL file:
    a read-only open of the unwritable folder must still see them (immutable=1 would not)."""
    first = finished(Store(store_dir))
    code = ("import os, sys; from engine.store import Store; from tests.test_faults import "
            "finished; s = Store(sys.argv[1]); db = s._connect(); "  # held open, never closed
            "db.execute('SELECT count(*) FROM runs').fetchall(); "
            "finished(s, seed=7); os._exit(0)")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    subprocess.run([sys.executable, "-c", code, str(store_dir)], check=True, env=env)
    assert store_dir.joinpath("runs.sqlite-wal").stat().st_size > 0, "the commit is in the log"
    monkeypatch.setattr(store_module, "_writable", lambda folder: False)
    before = sorted(p.name for p in store_dir.iterdir())
    readonly = Store(store_dir, read_only=True)
    ids = {r["id"] for r in readonly.list_runs()}
    assert first["id"] in ids and len(ids) == 2
    assert sorted(p.name for p in store_dir.iterdir()) == before, "nothing written"


def test_cli_on_an_unwritable_store_lists_and_refuses_training_in_one_line(store_dir, capsys,
                                                                          monkeypatch):
    run = finished(Store(store_dir))
    monkeypatch.setattr(store_module, "_writable", lambda folder: False)
    from engine.cli import main

    assert main(["runs"]) == 0 and run["id"] in capsys.readouterr().out
    assert main(["run", "dnn", "--variant", "mlp", "--preset", "quick"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the run store") and err.count("\n") == 1


# ---- 9. waiting processes -----------------------------------------------------------
def test_a_waiter_trains_nothing_else_and_takes_over_a_dead_owner(store, monkeypatch):
    manager = JobManager(store, NoWake())
    unrelated = manager.submit(tiny_spec(seed=7)).run_id
    wanted = manager.submit(tiny_spec(seed=8)).run_id
    claimed = store.claim_next(wanted)
    own_by(store, wanted, claimed["pid"], claimed["host"], time.time())  # "the app's worker"
    result = {}

    def waiter():
        result["submission"] = JobManager(store, NoWake()).run_here(tiny_spec(seed=8),
                                                                    poll_seconds=0.05)

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.5)
    assert store.get(unrelated)["status"] == "queued", "the waiter trained an unrelated run"
    own_by(store, wanted, 999999999, claimed["host"], time.time())  # the owner dies
    thread.join(120)
    assert result["submission"].status == "done" and not result["submission"].cached
    assert store.get(wanted)["status"] == "done"
    assert store.get(unrelated)["status"] == "queued"


def test_a_waiter_that_trained_nothing_reports_cached(store):
    manager = JobManager(store, NoWake())
    run_id = manager.submit(tiny_spec()).run_id
    result = {}
    thread = threading.Thread(target=lambda: result.update(
        s=JobManager(store, NoWake()).run_here(tiny_spec(), poll_seconds=0.05)))
    claimed = store.claim_next(run_id)
    thread.start()
    execute(store, claimed)
    thread.join(60)
    assert result["s"].status == "done" and result["s"].cached


# ---- 10. smaller ------------------------------------------------------------------------
def test_only_the_stores_own_ids_reach_the_file_system(store, tmp_path):
    victim = tmp_path / "x"
    victim.mkdir()
    for bad in ("../../x", "../x", "/tmp", "dnn-mlp-../../x", ""):
        with pytest.raises(ValueError, match="not a run id"):
            store.delete(bad)
        with pytest.raises(ValueError, match="not a run id"):
            store.enqueue(bad, tiny_spec())
    assert victim.exists()


def test_bad_threads_setting_is_one_line_and_strands_nothing(store_dir, monkeypatch, capsys):
    from engine.cli import main

    monkeypatch.setenv("TOP10_THREADS", "abc")
    assert main(["run", "dnn", "--variant", "logreg", "--preset", "quick"]) == 2
    assert capsys.readouterr().err == ("error: TOP10_THREADS='abc': use a whole number of 0 or "
                                       "more\n")
    store = Store(store_dir)
    run_id = JobManager(store, NoWake()).submit(tiny_spec()).run_id
    assert execute(store, store.claim_next(run_id)) == "failed"  # the worker: failed, not running
    assert "TOP10_THREADS" in store.get(run_id)["error"]


@pytest.mark.slow  # seconds: a fresh Python (imports torch) or a whole corpus
def test_list_into_a_closed_pipe_is_quiet(store_dir):
    out = subprocess.run(f"{sys.executable} -m engine list | head -1", shell=True, cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.stdout.startswith("dnn") and "Error" not in out.stderr, out.stderr


def test_repeated_set_and_long_values(store_dir, capsys):
    from engine.cli import main

    assert main(["run", "dnn", "--set", "epochs=1", "--set", "epochs=2"]) == 2
    assert "given twice" in capsys.readouterr().err
    assert main(["run", "dnn", "--set", "epochs=" + "9" * 10_000 + "x"]) == 2
    assert len(capsys.readouterr().err) < 200


def test_stale_owner_cannot_write_over_a_takeover(store):
    run_id = JobManager(store, NoWake()).submit(tiny_spec()).run_id
    store.claim_next(run_id)
    report = StoreReport(store, run_id)
    store.mark_interrupted(run_id, "silent")
    with pytest.raises(RunCancelled):  # the old owner stops at its next report
        report.flush()
    assert not store.finish(run_id, {"test/acc": 0.1}, 1, 1.0, {}, {})
    assert store.get(run_id)["status"] == "interrupted"


# ---- the kill -9 campaign (also `python -m engine bench faults --kills N`) ---------------
def test_lost_results_counts_what_is_gone(store):
    from engine.bench.faults import lost_results

    run = finished(store)
    assert lost_results(store, {run["id"]}) == []
    (store.folder(run["id"]) / "state_dict.pt").unlink()
    assert lost_results(store, {run["id"]}) == [run["id"]]


@pytest.mark.slow
def test_ten_rounds_lose_nothing_strand_nothing_and_no_stale_write(tmp_path, shared_data_dir, monkeypatch):
    from engine.bench.faults import campaign

    monkeypatch.setenv("TOP10_DATA_DIR", str(shared_data_dir))
    tally = campaign(tmp_path / "store", kills=10, seed=3, echo=lambda line: None)
    assert tally.kills == 10 and tally.survived == 10
    assert tally.lost == [] and tally.stranded == [] and tally.damage == []
    assert tally.stale_writes == [] and sum(tally.missed.values()) == 0
    assert tally.kinds == {"random": 4, "point": 4, "paused": 2}
    assert tally.forced_in_flight >= 1 and tally.finished >= 2


def test_processed_graph_loads_from_a_folder_it_cannot_lock(shared_data_dir, monkeypatch):
    from engine.data import graphs

    monkeypatch.setenv("TOP10_DATA_DIR", str(shared_data_dir))
    graphs.load_planetoid.cache_clear()
    first = graphs.load_planetoid("cora")
    graphs.load_planetoid.cache_clear()
    locked = []
    monkeypatch.setattr(graphs, "_locked", lambda path: locked.append(path))
    again = graphs.load_planetoid("cora")  # processed files exist: no lock file, no write
    assert locked == [] and again.x.shape == first.x.shape
    graphs.load_planetoid.cache_clear()


@pytest.mark.parametrize("key", ["gan", "diffusion"])
def test_unwritable_data_folder_fails_before_training(store, tmp_path, monkeypatch, key):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("TOP10_DATA_DIR", str(blocker / "data"))
    spec = registry.build_spec(key, list(registry.card(key).variants)[0], "quick")
    started = time.perf_counter()
    submission = JobManager(store, InlineExecutor(store)).submit(spec)
    run = store.get(submission.run_id)
    assert run["status"] == "failed" and time.perf_counter() - started < 30
    assert run["error"].startswith("cannot save") and "TOP10_DATA_DIR" in run["error"]
    assert "\n" not in run["error"]
