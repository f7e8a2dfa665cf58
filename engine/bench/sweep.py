"""python -m engine bench sweep [--epochs E (5)] [--train-limit N (0: all)]

The same 8-run DNN sweep (mlp, quick preset, lr x hidden = 2 x 2, seeds 0-1) three ways,
each into a fresh temporary store so nothing is served: one run after another with the
process executor, Ray on a local instance with 2 single-thread workers, and Ray on a
two-node loopback cluster (1 CPU per node). Prints each wall time, its ratio to the
sequential one, Ray's start-up time, the per-run overhead Ray adds (the driver's submit-to-
result time minus the task's own time) and whether all three gave the same numbers.
Every run uses 1 thread, so the numbers match and the ratio is parallelism minus overhead.
Needs `pip install -r requirements-ray.txt`.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from engine import settings, sweep
from engine.store import Store
from engine.terminal import load_line


def _timed_sweep(plan: sweep.Sweep, kind: str, executor_of=None):
    """(wall seconds, rows, the Ray executor or None) for one way of running the sweep."""
    store = Store(tempfile.mkdtemp(prefix="top10-bench-sweep-"))
    executor = executor_of(store) if executor_of else None
    began = time.perf_counter()
    rows = sweep.train(store, plan, kind, executor=executor)
    return time.perf_counter() - began, rows, executor


def _overhead_line(executor) -> str:
    extra = [f.wall_seconds - f.task_seconds for f in executor.finished if f.task_seconds]
    return (f"    Ray adds per run: median {statistics.median(extra):.2f}s, mean "
            f"{statistics.mean(extra):.2f}s, max {max(extra):.2f}s (submit to result minus "
            "the task's own time; the max is a cold worker starting and importing torch)")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine bench sweep")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--train-limit", type=int, default=0,
                        help="training images per run (0 = all 55,000)")
    args = parser.parse_args(argv)
    from engine.ray_executor import RayExecutor, connect, disconnect, loopback_cluster

    settings.override({"TOP10_THREADS": "1", "RAY_ADDRESS": None})
    plan = sweep.build("dnn", "mlp", "quick", {"lr": ["1e-3", "3e-3"], "hidden": ["64", "128"]},
                       [0, 1], {"epochs": str(args.epochs), "train_limit": str(args.train_limit)})
    print(f"8-run DNN sweep (mlp, {args.epochs} epoch(s) on {args.train_limit or 55000} images, "
          f"lr x hidden x seeds = 2x2x2), 1 thread per run; {load_line()}")

    def ray_executor(store):
        return RayExecutor(store, threads=1)

    results = {}
    wall, rows, _ = _timed_sweep(plan, "process")
    results["sequential"] = rows
    base = wall
    print(f"  sequential (process executor): {wall:6.1f}s  ratio 1.00")

    began = time.perf_counter()
    connect(num_cpus=2)
    started = time.perf_counter() - began
    wall, rows, executor = _timed_sweep(plan, "ray", ray_executor)
    disconnect()
    results["ray local"] = rows
    print(f"  Ray, local, 2 workers x 1 thread: {wall:6.1f}s  ratio {base / wall:.2f} "
          f"(plus {started:.1f}s to start Ray)")
    print(_overhead_line(executor))

    began = time.perf_counter()
    with loopback_cluster((1, 1)) as cluster:
        with settings.overridden({"RAY_ADDRESS": cluster.address}):
            connect()
            started = time.perf_counter() - began
            wall, rows, executor = _timed_sweep(plan, "ray", ray_executor)
            disconnect()
    results["two nodes"] = rows
    print(f"  Ray, two loopback nodes x 1 CPU: {wall:6.1f}s  ratio {base / wall:.2f} "
          f"(plus {started:.1f}s to start the cluster)")
    print(_overhead_line(executor))

    headline = {name: sorted((run_id, r["metrics"].get("test/acc")) for run_id, r in rows.items())
                for name, rows in results.items()}
    same = len({tuple(v) for v in headline.values()}) == 1
    print(f"  same test/acc for every run in all three: {'yes' if same else 'NO'}")
    print(sweep.table_text(plan, sweep.summarize(plan, results["sequential"])))
    print(load_line())
    return 0 if same else 1
