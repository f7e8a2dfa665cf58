"""Training off the UI thread. Progress, cancel and results all pass through the store.

JobManager.submit(spec) finds or queues a run; an executor makes sure something drains
the queue. ProcessExecutor (the app's default) keeps one worker process, so training
never blocks a Streamlit script run and survives page changes; InlineExecutor (CLI,
tests) drains the queue in the calling process. Another engine only needs `wake()`.
"""
from __future__ import annotations

import logging
import os
import platform
import random
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from engine import registry, settings
from engine.core import ConfigError, NonFiniteMetric, RunCancelled, RunResult, RunSpec, check_finite
from engine.data import DataMissing
from engine.names import LIVE
from engine.settings import FLUSH_SECONDS, HEARTBEAT_SECONDS
from engine.store import CorruptArtifact, NotOwner, QueueLimit, Store

log = logging.getLogger(__name__)


class StoreReport:
    """The Report an algorithm gets inside a job: buffers metric rows and writes them,
    with progress, at most every FLUSH_SECONDS; raises RunCancelled once asked to stop."""

    def __init__(self, store: Store, run_id: str, echo: Callable[[float, str], None] | None = None):
        self.store, self.run_id, self.echo = store, run_id, echo
        self.start = time.perf_counter()
        self.rows: list[tuple[int, float, str, float]] = []
        self.fraction, self.note = 0.0, "running"
        self.last_flush = 0.0
        self.cancelled = False
        self.active = time.monotonic()  # the last report or progress call (the hang watchdog)

    def __call__(self, step: int, metrics: dict[str, float]) -> None:
        self.active = time.monotonic()
        check_finite(step, metrics)
        seconds = time.perf_counter() - self.start
        self.rows.extend((int(step), seconds, k, float(v)) for k, v in metrics.items())
        self._maybe_flush()

    def progress(self, done: float, total: float, note: str = "") -> None:
        self.active = time.monotonic()
        self.fraction = min(1.0, max(0.0, done / total)) if total else 0.0
        self.note = note or self.note
        self._maybe_flush()

    def _maybe_flush(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self.last_flush < FLUSH_SECONDS:
            return
        self.last_flush = now
        self.cancelled = self.store.beat(self.run_id, self.fraction, self.note, self.rows)
        self.rows = []
        if self.echo:
            self.echo(self.fraction, self.note)
        if self.cancelled:
            raise RunCancelled()

    def flush(self) -> None:
        self._maybe_flush(force=True)


def environment() -> dict:
    """Where a run trained (kept with it; a shipped run's provenance)."""
    import torch

    from engine.shipped import commit, cpu_model

    return {"commit": commit(), "cpu": cpu_model(), "python": platform.python_version(),
            "torch": torch.__version__, "threads": torch.get_num_threads(), "host": socket.gethostname(),
            "machine": platform.machine(), "cpus": os.cpu_count(),
            "device": str(settings.device()),
            "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None}


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class Heartbeat:
    """While a job runs, a side thread stamps its row every HEARTBEAT_SECONDS, so a long
    silent stretch (loading data, training the yardstick) is not taken for a dead worker.
    It is also the hang watchdog: once the job has neither reported nor moved its progress
    for settings.hung_seconds(), it stops beating, marks the run interrupted with the reason
    and calls on_hung (a worker process exits: a hung thread cannot be stopped from outside,
    and the app starts a fresh worker for the next run)."""

    def __init__(self, store: Store, run_id: str, report: StoreReport,
                 on_hung: Callable[[], None] | None = None):
        self.stop = threading.Event()
        self.report, self.on_hung, self.hung = report, on_hung, settings.hung_seconds()
        self.thread = threading.Thread(target=self._beat, args=(store, run_id), daemon=True)

    def _beat(self, store: Store, run_id: str) -> None:
        while not self.stop.wait(HEARTBEAT_SECONDS):
            silent = time.monotonic() - self.report.active
            try:
                if silent > self.hung:
                    why = (f"no progress for {silent:.0f} s (TOP10_HUNG_SECONDS={self.hung:.0f}):"
                           " the training hung; its worker gave the run up")
                    store.mark_interrupted(run_id, why)
                    log.error("run %s: %s", run_id, why)
                    if self.on_hung:
                        self.on_hung()
                    return
                store.touch(run_id)
            except Exception as error:  # a busy database now and then: the next beat retries
                log.warning("heartbeat of %s failed: %s", run_id, error)

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


def train(spec: RunSpec, report, threads: int | None = None) -> RunResult:
    """Train one spec the same way on every executor (same threads and seed, same numbers):
    at `threads` torch threads (default settings.threads(); a Ray task gets its driver's)."""
    import torch

    torch.set_num_threads(threads or settings.threads())
    card = registry.card(spec.algorithm)
    seed_everything(spec.seed)
    result = card.run(spec, report)
    report.flush()
    check_finite(-1, result.metrics)
    return result


EXPECTED_FAILURES = (NonFiniteMetric, ConfigError, DataMissing)  # one line, no trace


def failure(error: Exception) -> tuple[str, str]:
    """(status, message) to store for a run that raised `error`."""
    if isinstance(error, RunCancelled):
        return "cancelled", "cancelled by request"
    if isinstance(error, EXPECTED_FAILURES):
        return "failed", str(error)
    # a bug or a resource problem: keep the trace for the Runs page
    detail = "".join(traceback.format_exception(error))[-4000:]
    return "failed", f"{type(error).__name__}: {error}\n\n{detail}"


def execute(store: Store, run: dict, echo: Callable[[float, str], None] | None = None,
            on_hung: Callable[[], None] | None = None) -> str:
    """Run one claimed run to its end and record the outcome. Returns the final status.
    on_hung: what to do once the run is found hung (see Heartbeat); by default nothing more."""
    run_id = run["id"]
    report = StoreReport(store, run_id, echo)
    with Heartbeat(store, run_id, report, on_hung):
        try:
            result = train(RunSpec(**run["spec"]), report)
            index = store.save_artifacts(run_id, result.artifacts)
            if not store.finish(run_id, result.metrics, result.params, result.train_seconds,
                                index, environment()):
                return "interrupted"  # it was taken for dead and is no longer ours to record
            return "done"
        except NotOwner as error:  # taken for dead and taken over: the new owner's result stands
            log.info("%s; its outcome is discarded", error)
            return "interrupted"
        except Exception as error:
            status, message = failure(error)
            store.end(run_id, status, message)
            if not isinstance(error, (RunCancelled, *EXPECTED_FAILURES)):  # a bug or resources
                log.error("run %s failed: %s", run_id, message)
            return status


def drain(store: Store, echo: Callable[[float, str], None] | None = None) -> None:
    """Run queued runs until the queue is empty."""
    while (run := store.claim_next()) is not None:
        execute(store, run, echo)


def _exit_hung() -> None:
    """A worker whose training thread hung exits at once (exit code 3): the thread cannot be
    stopped, and while it lives the worker would hold its slot with nothing to show."""
    logging.shutdown()
    os._exit(3)


def worker_main(store_root: str, idle_exit_seconds: float = 120.0) -> None:
    """Entry point of the worker process: drain the queue, poll, exit after a quiet spell.
    With TOP10_EXECUTOR=ray it is the Ray driver instead (engine/ray_executor.py)."""
    logging.basicConfig(level=logging.INFO, format="worker %(process)d: %(levelname)s %(message)s")
    store = Store(store_root)
    if settings.executor() == "ray":
        from engine.ray_executor import RayExecutor

        RayExecutor(store).serve(idle_exit_seconds)
        return
    idle_since = time.monotonic()
    parent = os.getppid()
    while time.monotonic() - idle_since < idle_exit_seconds and os.getppid() == parent:
        run = store.claim_next()
        if run is None:
            time.sleep(0.3)
            continue
        log.info("running %s", run["id"])
        log.info("%s ended %s", run["id"], execute(store, run, on_hung=_exit_hung))
        idle_since = time.monotonic()


def train_in_workers(manager: JobManager, specs: list[RunSpec], jobs: int,
                     say: Callable[[str], None] = print, poll_seconds: float = 1.0,
                     note_every: float = 30.0) -> dict[str, str]:
    """Serve or queue every spec, train the queued ones in `jobs` worker processes at once
    (in the order given: put the longest first) and wait for all, saying a line as each
    ends and every note_every seconds what the live ones are doing; the workers stop at the
    end. Ctrl-C cancels what is left. Returns {run id: final status}."""
    store = manager.store
    submissions = [manager.submit(spec, wake=False) for spec in specs]
    pending = {s.work_id: s for s in submissions if not s.cached}
    ended = {s.run_id: "done" for s in submissions if s.cached}
    workers = ProcessExecutor(store, jobs=jobs, idle_exit_seconds=2.0)
    workers.wake()
    last_note = time.monotonic()
    try:
        while pending:
            time.sleep(poll_seconds)
            store.recover_interrupted()
            for work_id, submission in list(pending.items()):
                row = store.get(work_id) or store.get(submission.run_id)
                if row is None or row["status"] not in LIVE:
                    status = row["status"] if row else "deleted"
                    ended[submission.run_id] = status
                    del pending[work_id]
                    error = f": {row['error'].splitlines()[0]}" if row and row.get("error") else ""
                    say(f"{submission.spec.algorithm}/{submission.spec.variant}: {status}{error}")
            if pending:
                workers.wake()  # a worker that died (or exited early) is replaced
            if time.monotonic() - last_note >= note_every:
                last_note = time.monotonic()
                for row in store.list_runs(status="running"):
                    say(f"  {row['algorithm']}/{row['variant']}: {100 * (row['progress'] or 0):.0f} %"
                        f" {row['note']}")
    except KeyboardInterrupt:
        for work_id in pending:
            store.request_cancel(work_id)
        raise
    finally:  # idle once all ended (a Ctrl-C: their runs end interrupted)
        workers.stop()
        store.recover_interrupted()
    return ended


class Executor(Protocol):
    def wake(self) -> None:
        """Make sure queued runs will be picked up."""


class InlineExecutor:
    """Drains the queue in the calling process (CLI, tests)."""

    def __init__(self, store: Store, echo: Callable[[float, str], None] | None = None):
        self.store, self.echo = store, echo

    def wake(self) -> None:
        drain(self.store, self.echo)


class ProcessExecutor:
    """Worker processes that drain the queue: up to `jobs` of them train at once, one run
    each (default settings.jobs(): the cores // TOP10_THREADS). A worker claims with the
    store's atomic claim, so any number of them (or of apps on one store) train each run
    once; each exits after a quiet spell. With kind 'ray' one worker is the Ray driver,
    which runs up to TOP10_JOBS tasks (passed on to it) as Ray tasks.

    Started as `python -m engine worker STORE`, not with multiprocessing: spawn would
    re-run the caller's __main__, which under Streamlit is the page script."""

    def __init__(self, store: Store, kind: str = "process", jobs: int | None = None,
                 idle_exit_seconds: float | None = None):
        self.store, self.kind = store, kind  # kind: how the worker trains (TOP10_EXECUTOR)
        self.jobs = jobs or settings.jobs(executor=kind)  # None: the Ray cluster's capacity
        self.idle_exit_seconds = idle_exit_seconds
        self.processes: list[subprocess.Popen] = []

    def wake(self) -> None:
        self.processes = [p for p in self.processes if p.poll() is None]
        for _ in range(self._wanted()):
            self.processes.append(self._start())

    def _wanted(self) -> int:
        """Workers to start now: one per queued run that no idle worker of ours will take,
        up to `jobs` in all (a Ray driver is one worker, whatever the jobs)."""
        room = (1 if self.kind == "ray" else self.jobs or 1) - len(self.processes)
        if room <= 0:
            return 0
        queued = len(self.store.list_runs(status="queued"))
        if not self.processes:
            return max(1, min(room, queued))
        pids = {p.pid for p in self.processes}
        busy = sum(r["pid"] in pids for r in self.store.list_runs(status="running"))
        return max(0, min(room, queued - (len(self.processes) - busy)))

    def _start(self) -> subprocess.Popen:
        root = str(Path(__file__).resolve().parents[1])  # so `engine` imports from anywhere
        env = settings.child_env({"TOP10_EXECUTOR": self.kind}, python_path=root)
        if self.jobs is not None:  # the Ray driver's cap (public mode: 1)
            env["TOP10_JOBS"] = str(self.jobs)
        idle = [] if self.idle_exit_seconds is None else ["--idle-exit", f"{self.idle_exit_seconds:g}"]
        return subprocess.Popen(
            [sys.executable, "-m", "engine", "worker", str(self.store.root), *idle], env=env,
            stdin=subprocess.DEVNULL, start_new_session=True)

    def alive(self) -> bool:
        return any(p.poll() is None for p in self.processes)

    def stop(self) -> None:
        """End the workers now (the command line's Ctrl-C); their runs become interrupted."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            process.wait()


def make_executor(store: Store, kind: str | None = None, background: bool = True,
                  echo: Callable[[float, str], None] | None = None) -> Executor:
    """The executor for `kind` ('process' or 'ray'; default TOP10_EXECUTOR). background
    (the app): a worker process drains the queue, training one run at a time or, with
    ray, driving Ray tasks; otherwise (CLI, tests) the caller drains it."""
    kind = kind or settings.executor()
    if background:
        return ProcessExecutor(store, kind)
    if kind == "ray":
        from engine.ray_executor import RayExecutor

        return RayExecutor(store, echo=echo)
    return InlineExecutor(store, echo)


@dataclass
class Submission:
    run_id: str
    spec: RunSpec
    cached: bool  # True when this process trained nothing: served from the store or waited
    status: str  # of the row doing the work (work_id)
    work_id: str = ""  # run_id, or `<run_id>.retry` while a finished run is recomputed

    def __post_init__(self) -> None:
        self.work_id = self.work_id or self.run_id


class JobManager:
    def __init__(self, store: Store, executor: Executor | None = None):
        self.store = store
        self.executor = executor or make_executor(store)
        store.recover_interrupted()  # nothing on a read-only store

    def submit(self, spec: RunSpec, force: bool = False, wake: bool = True, visitor: str = "",
               limit: QueueLimit | None = None) -> Submission:
        """Serve a finished run from the store or queue it. Two requests for one spec
        share one run; a finished run with a damaged artifact is recomputed. Recomputing
        keeps the finished run served until the new attempt is done (see Store.enqueue,
        which records the visitor and raises QueueFull past a limit)."""
        run_id = registry.run_id(spec)
        existing = self.store.get(run_id)
        if existing and existing["status"] == "done" and not force:
            if self.store.artifacts_intact(run_id):
                return Submission(run_id, spec, cached=True, status="done")
            log.warning("%s: stored files are damaged; recomputing", run_id)
            force = True
        self.store.recover_interrupted()
        work_id, _ = self.store.enqueue(run_id, spec, force=force, visitor=visitor, limit=limit)
        if wake:
            self.executor.wake()
        row = self.store.get(work_id)
        return Submission(run_id, spec, cached=False, status=row["status"] if row else "done",
                          work_id=work_id)

    def run_here(self, spec: RunSpec, force: bool = False,
                 echo: Callable[[float, str], None] | None = None,
                 poll_seconds: float = 1.0) -> Submission:
        """Serve spec from the store, or train it in this process, or wait while another
        process (the app's worker, another CLI) trains it, taking it over if that owner
        dies. Never trains any other queued run. cached is True unless this call trained."""
        submission = self.submit(spec, force=force, wake=False)
        if submission.cached:
            return submission
        work_id, trained = submission.work_id, False
        while True:
            claimed = self.store.claim_next(work_id)
            if claimed is not None:
                execute(self.store, claimed, echo)
                trained = True
                break
            row = self.store.get(work_id)
            if row is None or row["status"] not in LIVE and row["status"] != "interrupted":
                break
            if row["status"] == "interrupted":  # its owner died: queue it again, then claim it
                self.store.enqueue(submission.run_id, spec, force=work_id != submission.run_id)
                continue
            time.sleep(poll_seconds)
            self.store.recover_interrupted()
        row = self.store.get(work_id) or self.store.get(submission.run_id)
        return Submission(submission.run_id, spec, cached=not trained, status=row["status"],
                          work_id=work_id)

    def cancel(self, run_id: str) -> None:
        self.store.request_cancel(run_id)

    def mark_interrupted(self, run_id: str) -> bool:
        """The Runs page's way out of a run whose worker is silent: mark it interrupted
        (it can then be queued again). True if it was running."""
        return self.store.mark_interrupted(run_id, "marked interrupted on the Runs page: its "
                                                   "worker had gone silent")

    def refresh(self) -> None:
        """Notice a dead worker: its running runs become interrupted."""
        self.store.recover_interrupted()
        if self.store.list_runs(status="queued"):
            self.executor.wake()

    def artifacts(self, run_id: str, names: list[str] | None = None) -> dict | None:
        """Artifacts of a finished run, or None if one is damaged: the run is then
        queued again (recomputed; the finished row stays until the new one is done) and
        the caller shows it as pending."""
        try:
            return self.store.load_artifacts(run_id, names)
        except CorruptArtifact as error:
            log.warning("%s; recomputing", error)
            self.submit(RunSpec(**self.store.get(run_id)["spec"]), force=True)
            return None
