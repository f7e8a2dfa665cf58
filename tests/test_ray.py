"""The Ray executor on a two-node loopback cluster: a 2x2 sweep over 2 seeds spread over
both nodes, the same numbers as the process executor, a killed worker retried without
losing anything (and a run lost too often ending interrupted), a run lost with its node
retried on the other, a cancel that reaches the task, and the app's worker process as
driver. Needs `pip install -r requirements-ray.txt`; skipped without it. Slow: the
cluster takes ~15 s to start, the module about a minute and a half."""
from __future__ import annotations

import importlib.util
import os
import signal
import threading
import time

import pytest

if importlib.util.find_spec("ray") is None:  # not importorskip: engine must import Ray first
    pytest.skip("ray is not installed (pip install -r requirements-ray.txt)",
                allow_module_level=True)

from engine import registry, sweep  # noqa: E402
from engine.jobs import InlineExecutor, JobManager, ProcessExecutor, execute  # noqa: E402
from engine.ray_executor import RayExecutor, connect, disconnect, loopback_cluster  # noqa: E402
from engine.store import Store  # noqa: E402

pytestmark = pytest.mark.slow
TINY = {"epochs": 1, "train_limit": 2000, "batch_size": 64}
LONGER = {"epochs": 4, "train_limit": 8000, "batch_size": 32, "hidden": 64}
ENDLESS = {**LONGER, "epochs": 100}  # minutes: only for runs that are stopped early


@pytest.fixture(scope="module")
def cluster(shared_data_dir):
    """Head + one more node, 1 CPU each, on 127.0.0.1; the driver (this process) joins it."""
    saved = {k: os.environ.get(k) for k in ("RAY_ADDRESS", "TOP10_DATA_DIR", "TOP10_THREADS")}
    os.environ.update(TOP10_DATA_DIR=str(shared_data_dir), TOP10_THREADS="1")
    with loopback_cluster((1, 1)) as local:
        os.environ["RAY_ADDRESS"] = local.address
        connect()
        yield local
        disconnect()
    for key, value in saved.items():
        os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)


def drive_in_background(executor: RayExecutor) -> threading.Thread:
    """executor.drain() in a thread; join_checked() re-raises what it raised."""
    errors: list[BaseException] = []

    def drain() -> None:
        try:
            executor.drain()
        except BaseException as error:  # noqa: BLE001 - handed to the test below
            errors.append(error)

    thread = threading.Thread(target=drain, daemon=True)
    thread.start()

    def join_checked(timeout: float) -> None:
        thread.join(timeout)
        assert not thread.is_alive(), "the driver did not finish"
        if errors:
            raise errors[0]

    thread.join_checked = join_checked
    return thread


def wait_for(condition, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def kill_the_worker_mid_run(executor: RayExecutor) -> threading.Thread:
    """Drive the one queued run; SIGKILL its worker process once it has reported progress."""
    thread = drive_in_background(executor)
    attempt = lambda: next(iter(executor.active.values()), None)  # noqa: E731
    wait_for(lambda: (a := attempt()) is not None and a.pid and a.progress > 0.002)
    os.kill(attempt().pid, signal.SIGKILL)
    return thread


def submit(store: Store, overrides: dict, seed: int = 0) -> str:
    spec = registry.build_spec("dnn", "mlp", "quick", overrides, seed)
    return JobManager(store, InlineExecutor(store)).submit(spec, wake=False).run_id


def without_timing(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if not k.startswith("time/")}


def test_sweep_runs_on_both_nodes(store, cluster):
    sw = sweep.build("dnn", "mlp", "quick", {"lr": ["1e-3", "3e-3"], "hidden": ["32", "64"]},
                     [0, 1], {k: str(v) for k, v in TINY.items()})
    rows = sweep.train(store, sw, "ray", executor=RayExecutor(store, threads=1))
    assert [r["status"] for r in rows.values()] == ["done"] * 8
    assert len({r["env"]["ray_node"] for r in rows.values()}) == 2  # both nodes trained
    assert all(store.history(i) for i in rows)  # metric rows streamed back
    table = sweep.summarize(sw, rows)
    assert list(table["done"]) == [2] * 4 and table["std"].notna().all()
    again = sweep.train(store, sw, "ray", executor=(executor := RayExecutor(store, threads=1)))
    assert executor.finished == [] and again.keys() == rows.keys()  # all served from the store


def test_same_numbers_as_the_process_executor(store, cluster, tmp_path):
    run_id = submit(store, TINY, seed=3)
    RayExecutor(store, threads=1).drain([run_id])
    on_ray = store.get(run_id)
    local = Store(tmp_path / "local")
    assert submit(local, TINY, seed=3) == run_id
    execute(local, local.claim_next(run_id))
    in_process = local.get(run_id)
    assert on_ray["status"] == in_process["status"] == "done"
    assert without_timing(on_ray["metrics"]) == without_timing(in_process["metrics"])
    assert on_ray["params"] == in_process["params"]
    values = [[(s, k, v) for s, _, k, v in st.history(run_id) if not k.startswith("time/")]
              for st in (store, local)]
    assert values[0] == values[1]
    assert store.load_artifacts(run_id).keys() == local.load_artifacts(run_id).keys()


def test_a_killed_worker_is_retried_and_nothing_is_lost(store, cluster):
    run_id = submit(store, LONGER)
    executor = RayExecutor(store, threads=1, max_retries=2)
    kill_the_worker_mid_run(executor).join_checked(300)
    row = store.get(run_id)
    assert row["status"] == "done", row["error"]
    assert executor.finished[-1].attempts == 2
    keys = [(step, key) for step, _, key, _ in store.history(run_id)]
    assert len(keys) == len(set(keys))  # the retry did not write its rows twice
    assert store.load_artifacts(run_id)


def test_a_run_lost_more_often_than_allowed_ends_interrupted(store, cluster):
    run_id = submit(store, ENDLESS, seed=2)
    executor = RayExecutor(store, threads=1, max_retries=0)
    kill_the_worker_mid_run(executor).join_checked(120)
    row = store.get(run_id)
    assert row["status"] == "interrupted" and "lost 1 times" in row["error"]


def test_cancel_reaches_the_task(store, cluster):
    run_id = submit(store, ENDLESS, seed=1)
    executor = RayExecutor(store, threads=1)
    thread = drive_in_background(executor)
    wait_for(lambda: (store.get(run_id)["progress"] or 0) > 0.002)
    JobManager(store, InlineExecutor(store)).cancel(run_id)
    thread.join_checked(120)
    row = store.get(run_id)
    assert row["status"] == "cancelled"
    assert executor.finished[-1].status == "cancelled"


def test_the_app_worker_process_drives_ray(store, cluster):
    """TOP10_EXECUTOR=ray in the app: the worker process it starts is the Ray driver (it
    inherits RAY_ADDRESS, here the loopback cluster)."""
    executor = ProcessExecutor(store, "ray")
    run_id = JobManager(store, executor).submit(
        registry.build_spec("dnn", "mlp", "quick", TINY, seed=5)).run_id
    try:
        wait_for(lambda: store.get(run_id)["status"] not in ("queued", "running"), 180)
    finally:
        executor.stop()
    row = store.get(run_id)
    assert row["status"] == "done", row["error"]
    assert row["env"]["executor"] == "ray" and row["pid"] == executor.processes[0].pid


def test_a_run_lost_with_its_node_is_retried_on_another(store, cluster):
    """Last in this module: it takes the second node away."""
    ids = [submit(store, LONGER, seed=seed) for seed in (6, 7)]
    executor = RayExecutor(store, threads=1)
    thread = drive_in_background(executor)
    (second,) = cluster.worker_nodes
    on_second = lambda: [a for a in executor.active.values()  # noqa: E731
                         if a.node == second.node_id and a.progress > 0.002]
    wait_for(lambda: on_second())
    lost = on_second()[0].run_id
    cluster.remove_node(second, allow_graceful=False)
    thread.join_checked(300)
    assert [store.get(i)["status"] for i in ids] == ["done", "done"]
    assert {f.run_id: f.attempts for f in executor.finished}[lost] == 2
