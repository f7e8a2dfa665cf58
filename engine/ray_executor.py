"""Ray behind the Executor seam: the same runs, trained as Ray tasks, on one machine or many.

The driver (the app's worker process, or the CLI) claims queued runs and submits each as a
Ray task with num_cpus = TOP10_THREADS. The task trains with jobs.train (same threads, same
seed, same numbers as the process executor) and a StoreReport whose "store" is a Channel
actor: every FLUSH_SECONDS it sends progress and metric rows there and learns whether a
cancel was asked for. It returns metrics, params, train seconds, the artifacts and its
environment. The driver drains the channel into the store and alone writes it, so workers
need no shared file system and no SQLite file; each reads data from its own
TOP10_DATA_MIRROR / TOP10_DATA_DIR.

Cancel: store flag -> driver (it beats every run it holds) -> channel flag -> RunCancelled at
the task's next report; a task that does not stop within CANCEL_GRACE_SECONDS is killed with
ray.cancel(force=True). A task lost with its worker or node is submitted again, up to
TOP10_RAY_RETRIES times, then ends `interrupted`. If the driver dies, its runs keep its pid
and the store's recovery marks them interrupted.

Store methods used: claim_next, beat, finish, end, save_artifacts.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine import settings
from engine.core import ConfigError, RunSpec
from engine.jobs import StoreReport, environment, failure, train
from engine.store import Store

ENGINE_DIR = Path(__file__).resolve().parent
POLL_SECONDS = 0.25  # how often the driver looks at finished tasks and the channel
BEAT_SECONDS = 1.0  # the driver beats each run it holds at least this often (heartbeat, cancel)
CANCEL_GRACE_SECONDS = 20.0


def retries() -> int:
    """TOP10_RAY_RETRIES: how many times a run lost with its worker or node is resubmitted."""
    raw = settings.ray_retries_raw()
    try:
        count = int(raw)
    except ValueError:
        count = -1
    if not 0 <= count <= 20:
        raise ConfigError("error.ray_retries", value=repr(raw))
    return count


# Usage statistics off, token authentication on (the token in ~/.ray/auth_token); Ray reads
# these when it is imported, so every import of ray here goes through _ray().
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token"}


def _ray_switch(name: str, value: str | None, unless_set: bool = False) -> str | None:
    """Set one of Ray's own switches (None: remove it) in the environment, where Ray and the
    processes a local Ray starts read them; unless_set leaves a value already there. Returns
    the value it had. The one place outside engine.settings that touches os.environ."""
    before = os.environ.get(name)
    if unless_set and before is not None:
        return before
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
    return before


def _ray():
    for name, value in RAY_ENV.items():
        _ray_switch(name, value, unless_set=True)
    import ray

    return ray


def connect(num_cpus: int | None = None) -> None:
    """Join the cluster at RAY_ADDRESS, else start a local Ray on loopback. Dashboard and
    usage statistics stay off; the engine package travels with the job (py_modules), so
    worker nodes need the dependencies but not this checkout."""
    ray = _ray()
    if ray.is_initialized():
        return
    address = settings.ray_address()
    options: dict[str, Any] = {
        "address": address, "log_to_driver": False, "configure_logging": False,
        "runtime_env": {"py_modules": [str(ENGINE_DIR)], "excludes": ["__pycache__"]}}
    if address == "local":
        options.update(num_cpus=num_cpus, include_dashboard=False)
    host = address.rsplit(":", 1)[0]
    try:
        with _loopback_only(address == "local" or host in ("localhost", "127.0.0.1")):
            ray.init(**options)
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise ConfigError("error.ray_unreachable", address=repr(address),
                          reason=str(error).splitlines()[0] if str(error)
                          else type(error).__name__) from None


@contextmanager
def _loopback_only(active: bool = True) -> Iterator[None]:
    """While Ray starts or connects, keep 127.0.0.1 as it is: on Linux Ray otherwise swaps it
    for the machine's routable address (and a local Ray binds every interface). Ray's switch
    for "one machine only" is read once at import, so it is set on the module for the call,
    and in the environment for the processes a local Ray starts."""
    _ray()  # imported (and checked) before its private constants
    from ray._private import ray_constants

    name = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
    if not active:
        yield
        return
    before = ray_constants.ENABLE_RAY_CLUSTER
    ray_constants.ENABLE_RAY_CLUSTER = False
    was = _ray_switch(name, "0")
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = before
        _ray_switch(name, was)


@contextmanager
def loopback_cluster(cpus: tuple[int, ...] = (1, 1)) -> Iterator[Any]:
    """A Ray cluster of len(cpus) nodes on this machine, each its own raylet and object
    store bound to 127.0.0.1, no dashboard; yields ray's Cluster (its .address for
    RAY_ADDRESS, remove_node to lose one). Ray's own multi-node test cluster: `ray start
    --address=127.0.0.1:...` cannot make it, since Ray 2.60 swaps 127.0.0.1 for the
    machine's routable address there and then binds every interface."""
    _ray()
    from ray._private.authentication.authentication_token_setup import ensure_token_if_auth_enabled
    from ray.cluster_utils import Cluster

    # A new cluster needs the token file first, as `ray.init()` makes it for a local Ray:
    # on a fresh machine (no ~/.ray/auth_token) its GCS would otherwise die at start.
    ensure_token_if_auth_enabled(None, create_token_if_missing=True)
    node = {"node_ip_address": "127.0.0.1"}
    cluster = Cluster(initialize_head=True, head_node_args={
        **node, "num_cpus": cpus[0], "include_dashboard": False})
    try:
        for count in cpus[1:]:
            cluster.add_node(**node, num_cpus=count)
        yield cluster
    finally:
        cluster.shutdown()


def disconnect() -> None:
    ray = _ray()

    if ray.is_initialized():
        ray.shutdown()


# ---- worker side ----------------------------------------------------------------------------
class ChannelSink:
    """Looks like the store to a StoreReport inside a task: beat() sends the rows to the
    channel and returns the cancel flag found there."""

    def __init__(self, channel, key: str):
        self.channel, self.key = channel, key

    def beat(self, run_id: str, progress: float, note: str, rows: list[tuple]) -> bool:
        ray = _ray()

        return ray.get(self.channel.send.remote(self.key, "beat", (progress, note, rows)))


def train_task(spec_json: str, key: str, channel, threads: int) -> dict[str, Any]:
    """Body of one Ray task: train the spec, stream rows to the channel, return the outcome
    (never raises for a training error: the driver stores what the process executor would)."""
    ray = _ray()

    began = time.perf_counter()
    node = ray.get_runtime_context().get_node_id()
    ray.get(channel.send.remote(key, "hello", {"pid": os.getpid(), "node": node}))
    spec = RunSpec.from_json(spec_json)
    try:
        result = train(spec, StoreReport(ChannelSink(channel, key), key), threads=threads)
    except Exception as error:
        status, message = failure(error)
        return {"status": status, "error": message}
    return {"status": "done", "metrics": result.metrics, "params": result.params,
            "train_seconds": result.train_seconds, "artifacts": result.artifacts,
            "env": {**environment(), "executor": "ray", "ray_node": node},
            "task_seconds": time.perf_counter() - began}


def _channel_class():
    ray = _ray()

    @ray.remote(num_cpus=0)
    class Channel:
        """Mailbox between tasks and the driver: tasks send, the driver takes and cancels."""

        def __init__(self):
            self.inbox: list[tuple[str, str, Any]] = []
            self.stop: set[str] = set()

        def send(self, key: str, kind: str, payload: Any) -> bool:
            self.inbox.append((key, kind, payload))
            return key in self.stop

        def take(self) -> list[tuple[str, str, Any]]:
            taken, self.inbox = self.inbox, []
            return taken

        def cancel(self, key: str) -> None:
            self.stop.add(key)

    return Channel


def _open_channel():
    """The Channel actor, on the driver's own node: it lives and dies with the driver,
    never with a worker node."""
    ray = _ray()
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
    return _channel_class().options(scheduling_strategy=here).remote()


# ---- driver side ----------------------------------------------------------------------------
@dataclass
class Attempt:
    """One submission of a run as a Ray task (a retry is a new attempt of the same run)."""

    run_id: str
    spec: RunSpec
    number: int  # 1 for the first try
    ref: Any  # the task's ObjectRef
    submitted: float
    pid: int | None = None  # the worker process, once the task said hello
    node: str | None = None
    progress: float = 0.0
    note: str = "starting"
    last_beat: float = 0.0
    cancel_asked: float | None = None

    @property
    def key(self) -> str:
        return f"{self.run_id}#{self.number}"


@dataclass
class Finished:
    """What the driver measured about one run it drove (for the sweep benchmark)."""

    run_id: str
    status: str
    attempts: int
    wall_seconds: float  # submit to result, seen by the driver (last attempt)
    task_seconds: float | None  # the task's own time from start to return


class RayExecutor:
    """Drains the store's queue through Ray tasks. wake() (CLI) drains in the caller;
    serve() is the app's worker process loop."""

    def __init__(self, store: Store, echo: Callable[[float, str], None] | None = None,
                 threads: int | None = None, max_retries: int | None = None):
        self.store, self.echo = store, echo
        self.threads = threads or settings.threads()
        self.max_retries = retries() if max_retries is None else max_retries
        self.active: dict[str, Attempt] = {}  # attempt key -> attempt
        self.written: dict[str, set[tuple[int, str]]] = {}  # run id -> (step, key) rows stored
        self.finished: list[Finished] = []
        self.channel = None  # the Channel actor, once connected
        self.remote_train = None

    def wake(self) -> None:
        self.drain()

    def serve(self, idle_exit_seconds: float) -> None:
        """The app's worker process: drive queued runs, poll, exit after a quiet spell."""
        idle_since, parent = time.monotonic(), os.getppid()
        while time.monotonic() - idle_since < idle_exit_seconds and os.getppid() == parent:
            if self.drain():
                idle_since = time.monotonic()
            else:
                time.sleep(0.3)

    def drain(self, run_ids: list[str] | None = None) -> int:
        """Train queued runs (only `run_ids` when given) until none is left to claim and
        none is in flight. Returns how many runs it ended."""
        pending = list(run_ids) if run_ids is not None else None
        ended = len(self.finished)
        while True:
            self._fill(pending)
            if not self.active:
                return len(self.finished) - ended
            self._step()

    # ---- the loop ---------------------------------------------------------------------
    def _claim(self, pending: list[str] | None) -> dict | None:
        if pending is None:
            return self.store.claim_next()
        while pending:
            run = self.store.claim_next(pending.pop(0))
            if run is not None:
                return run
        return None

    def _capacity(self) -> int:
        """Tasks the cluster can run at once with `threads` CPUs each (at least one), at
        most TOP10_JOBS when that is set."""
        ray = _ray()

        nodes = [n for n in ray.nodes() if n.get("Alive")]
        biggest = max((n["Resources"].get("CPU", 0) for n in nodes), default=0)
        if biggest < self.threads:
            raise ConfigError("error.ray_threads", threads=self.threads, cpus=f"{biggest:g}")
        fits = max(1, int(sum(n["Resources"].get("CPU", 0) // self.threads for n in nodes)))
        cap = settings.jobs(executor="ray")  # TOP10_JOBS, or 1 passed on in public mode
        return fits if cap is None else min(fits, cap)

    def _fill(self, pending: list[str] | None) -> None:
        while self.channel is None or len(self.active) < self._capacity():
            run = self._claim(pending)
            if run is None:
                return
            spec = RunSpec(**run["spec"])
            try:
                if self.channel is None:
                    connect()
                    self.channel = _open_channel()
                    self._capacity()  # a node too small for TOP10_THREADS fails here
            except ConfigError as error:
                self.store.end(run["id"], "failed", str(error))
                self.finished.append(Finished(run["id"], "failed", 0, 0.0, None))
                continue
            self._submit(run["id"], spec, 1)

    def _submit(self, run_id: str, spec: RunSpec, number: int) -> None:
        ray = _ray()

        if self.remote_train is None:
            self.remote_train = ray.remote(train_task)
        remote = self.remote_train.options(num_cpus=self.threads, max_retries=0)
        attempt = Attempt(run_id, spec, number, None, time.perf_counter())
        attempt.ref = remote.remote(spec.to_json(), attempt.key, self.channel, self.threads)
        attempt.last_beat = time.monotonic()
        self.active[attempt.key] = attempt

    def _step(self) -> None:
        ray = _ray()

        by_ref = {a.ref: a for a in self.active.values()}
        ready, _ = ray.wait(list(by_ref), num_returns=len(by_ref), timeout=POLL_SECONDS)
        self._relay()  # a task's last rows reach the channel before its result is ready
        for ref in ready:
            self._end(by_ref[ref])
        now = time.monotonic()
        for attempt in list(self.active.values()):
            if now - attempt.last_beat >= BEAT_SECONDS:
                self._beat(attempt, [])
            if attempt.cancel_asked and now - attempt.cancel_asked > CANCEL_GRACE_SECONDS:
                ray.cancel(attempt.ref, force=True)

    def _relay(self) -> None:
        """Write what the tasks sent (progress and metric rows) into the store."""
        ray = _ray()

        for key, kind, payload in ray.get(self.channel.take.remote()):
            attempt = self.active.get(key)
            if attempt is None:  # a lost attempt's late words
                continue
            if kind == "hello":
                attempt.pid, attempt.node = payload["pid"], payload["node"]
                continue
            attempt.progress, note, rows = payload
            attempt.note = note if attempt.number == 1 else f"{note} (try {attempt.number})"
            self._beat(attempt, rows)
            if self.echo:
                self.echo(attempt.progress, attempt.note)

    def _beat(self, attempt: Attempt, rows: list[tuple]) -> None:
        """Store progress and new rows (a retry's rows already stored by an earlier try
        are skipped: same seed, same values); pass a cancel request on to the task."""
        seen = self.written.setdefault(attempt.run_id, set())
        if attempt.number > 1:
            rows = [r for r in rows if (r[0], r[2]) not in seen]
        seen.update((r[0], r[2]) for r in rows)
        attempt.last_beat = time.monotonic()
        if self.store.beat(attempt.run_id, attempt.progress, attempt.note, rows):
            if attempt.cancel_asked is None:
                attempt.cancel_asked = time.monotonic()
                self.channel.cancel.remote(attempt.key)

    def _end(self, attempt: Attempt) -> None:
        ray = _ray()
        from ray import exceptions as rx

        del self.active[attempt.key]
        run_id, wall = attempt.run_id, time.perf_counter() - attempt.submitted
        task_seconds, status = None, None
        try:
            out = ray.get(attempt.ref)
        except rx.TaskCancelledError:
            status, message = "cancelled", "cancelled by request"
        except rx.RayTaskError as error:  # the task itself broke outside training
            status, message = failure(error)
        except rx.RayError as error:  # the worker, its node or the task's result was lost
            if attempt.cancel_asked:
                status, message = "cancelled", "cancelled by request"
            elif attempt.number <= self.max_retries:
                self.store.beat(run_id, 0.0, f"worker lost; try {attempt.number + 1}", [])
                self._submit(run_id, attempt.spec, attempt.number + 1)
                return
            else:
                first = str(error).strip().splitlines()[0] if str(error).strip() else ""
                status, message = "interrupted", (
                    f"the Ray worker was lost {attempt.number} times ({type(error).__name__}"
                    f"{': ' + first if first else ''})")
        else:
            task_seconds = out.get("task_seconds")
            status, message = out["status"], out.get("error", "")
            if status == "done":
                try:
                    index = self.store.save_artifacts(run_id, out["artifacts"])
                    self.store.finish(run_id, out["metrics"], out["params"],
                                      out["train_seconds"], index, out["env"])
                except Exception as error:
                    status, message = failure(error)
        if status != "done":
            self.store.end(run_id, status, message)
        self.written.pop(run_id, None)
        self.finished.append(Finished(run_id, status, attempt.number, wall, task_seconds))
