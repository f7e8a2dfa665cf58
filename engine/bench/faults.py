"""python -m engine bench faults [--kills N] [--jobs J] [--seed S] [--store DIR]

Strike the training workers N times and count what survives. With --jobs J (default 1) J
worker processes train at once, as the app's do, and each round strikes all of them, in
one of three ways (every fifth round a pause, the others by turns random and write point):

  at random      kill -9 from outside at a seeded random moment: start-up, data loading,
                 training, the artifact write, the swap of a recompute
  at a point     each worker kills itself (TOP10_FAULT_AT) at the next of the store's write
                 points, in turn: before the artifacts, between an artifact's temp file and
                 its rename, after the artifacts, after the manifest (before the commit),
                 after the commit that records or swaps in the run
  paused         each worker stops itself (SIGSTOP) at a write point outside a transaction;
                 once its heartbeat is TOP10_STALE_SECONDS' least (15 s) old it is taken for
                 dead, its run queued again and finished by fresh workers, and then the
                 paused worker is resumed (SIGCONT) and goes on to its end

Each round queues J more tiny DNN runs (quick preset, 1 epoch on 1,000 images), asks again
for the runs the last round interrupted and, in every other round of a kind, forces a re-run
of a finished one, so strikes also land in a recompute and its swap. After each round the
store is recovered the way the app's next poll does it (Store.recover_interrupted) and
checked:

  results lost   finished runs (done before the strike) that are no longer done with intact,
                 loadable artifacts; must be 0
  rows stranded  rows still `running` once the dead worker has been noticed; must be 0
  damage         problems `python -m engine store check` reports; must be none
  stale writes   what a resumed stale owner changed: a finished run's row, manifest or files
                 not the same after it woke, or a folder it left that no row names; must be 0
  unnamed        folders no row names once the last round's recovery has run (the recovery
                 removes those a kill between a commit and a folder's removal leaves); must be 0

It uses its own temporary store (or --store DIR, which must be empty or absent) and the
usual data folders. Wrap it in `flock /tmp/top10-cpu.lock` on a shared machine.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from engine import registry, settings
from engine.core import RunSpec
from engine.jobs import InlineExecutor, JobManager, ProcessExecutor
from engine.names import LIVE
from engine.settings import FAULT_POINTS, HEARTBEAT_SECONDS
from engine.store import RETRY, Store
from engine.terminal import OneLineParser

TINY = {"train_limit": 1000, "epochs": 1}
# A pause inside finish's transaction (after_manifest) would hold the index's write lock and
# stop every other writer, as SQLite does for any paused writer; after_swap is past the
# commit, with nothing left to take over. So owners pause only outside a transaction.
PAUSE_POINTS = ("before_artifacts", "before_rename", "after_artifacts")
STALE = 3 * HEARTBEAT_SECONDS  # the least TOP10_STALE_SECONDS allows (3 missed beats)
REACH_SECONDS = 120.0  # for a worker to reach its point: start-up, data, training take seconds


@dataclass
class Tally:
    kills: int = 0
    survived: int = 0
    lost: list[str] = field(default_factory=list)
    stranded: list[str] = field(default_factory=list)
    damage: list[str] = field(default_factory=list)
    stale_writes: list[str] = field(default_factory=list)
    forced_in_flight: int = 0  # strikes that hit while a forced re-run was queued or running
    finished: int = 0
    unnamed: int = 0  # folders no row names after the final recovery: must be 0
    tidied: int = 0  # folders no row names before a round's recovery (it removes them)
    kinds: Counter = field(default_factory=Counter)  # rounds of each kind
    reached: Counter = field(default_factory=Counter)  # point -> workers struck exactly there
    missed: Counter = field(default_factory=Counter)  # point -> workers that never reached it


def spec_for(seed: int):
    return registry.build_spec("dnn", "logreg", "quick", TINY, seed=seed)


def lost_results(store: Store, done_ids: set[str]) -> list[str]:
    """Runs that were finished and are not any more (not done, or artifacts unreadable)."""
    lost = []
    for run_id in sorted(done_ids):
        run = store.get(run_id)
        if run is None or run["status"] != "done" or not store.artifacts_intact(run_id):
            lost.append(run_id)
            continue
        store.load_artifacts(run_id)  # loadable, not only matching checksums
    return lost


def finished_state(store: Store) -> dict[str, tuple[str, dict[str, str]]]:
    """What no stale owner may change: each finished run's row (its outcome columns) and
    the sha256 of every file in its folder (manifest, artifacts, any temp file)."""
    state = {}
    for run in store.list_runs(status="done"):
        folder = store.folder(run["id"])
        files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                 for p in sorted(folder.iterdir())} if folder.is_dir() else {}
        row = {k: run[k] for k in ("folder", "finished", "metrics", "params", "train_seconds",
                                   "artifacts", "env")}
        state[run["id"]] = (json.dumps(row, sort_keys=True, default=str), files)
    return state


def unnamed_folders(store: Store) -> set[str]:
    """Folders under artifacts/ that no row names (listed before the rows are read, so a
    folder made for a row queued meanwhile is never among them)."""
    if not store.artifact_root.is_dir():
        return set()
    on_disk = {p.name for p in store.artifact_root.iterdir() if p.is_dir()}
    return on_disk - {r["folder"] or r["id"] for r in store.list_runs()}


def stale_writes(before: tuple[dict, set[str]], after: tuple[dict, set[str]]) -> list[str]:
    """One line per change between two (finished_state, unnamed_folders) snapshots: a finished
    run whose row or files differ, or a new folder that no row names."""
    (runs_before, stray_before), (runs_after, stray_after) = before, after
    changed = [f"{run_id}: changed" for run_id, seen in sorted(runs_before.items())
               if runs_after.get(run_id) != seen]
    return changed + [f"{name}: left behind" for name in sorted(stray_after - stray_before)]


def snapshot(store: Store) -> tuple[dict, set[str]]:
    return finished_state(store), unnamed_folders(store)


@contextmanager
def fault_at(value: str):
    """TOP10_FAULT_AT=value for the workers started inside (they copy the environment)."""
    with settings.overridden({"TOP10_FAULT_AT": value}):
        yield


def wait_stopped(worker: subprocess.Popen, deadline: float) -> bool:
    """Wait until the worker has stopped itself (SIGSTOP at its point): True. False if it
    exited first (its exit status is handed to Popen) or the deadline (monotonic) passed."""
    while time.monotonic() < deadline:
        pid, status = os.waitpid(worker.pid, os.WNOHANG | os.WUNTRACED)
        if pid == 0:
            time.sleep(0.1)
        elif os.WIFSTOPPED(status):
            return True
        else:  # reaped here, so Popen would never see it: tell it
            worker.returncode = os.waitstatus_to_exitcode(status)
            return False
    return False


def end_workers(workers: list[subprocess.Popen], seconds: float) -> int:
    """Wait up to `seconds` for the workers to exit, kill -9 those that did not; return how
    many had to be killed."""
    deadline, killed = time.monotonic() + seconds, 0
    for worker in workers:
        try:
            worker.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.kill(worker.pid, signal.SIGKILL)  # kills a stopped process too
            worker.wait(30)
            killed += 1
    return killed


def retry_live(store: Store) -> bool:
    """Is a forced re-run (a `.retry` row) queued or running?"""
    return any(r["id"].endswith(RETRY) for r in store.list_runs()
               if r["status"] in LIVE)


def round_kind(round_: int) -> str:
    """Every fifth round a pause; the others by turns a random kill and a write-point kill."""
    if round_ % 5 == 4:
        return "paused"
    return "random" if round_ % 2 == 0 else "point"


def queue_round(store: Store, manager: JobManager, rng: random.Random, done_ids: set[str],
                forced: bool, jobs: int, next_seed: int) -> tuple[int, tuple[str, str] | None]:
    """Queue a round's runs, a forced re-run at the head of the queue; return the next
    unused seed and the re-run's (work id, folder), or None."""
    retry = None
    if forced:
        again = RunSpec(**store.get(rng.choice(sorted(done_ids)))["spec"])
        work_id = manager.submit(again, force=True, wake=False).work_id
        # Workers claim the oldest queued run, and runs left queued by earlier rounds are
        # older: without this the strikes at the swap never landed in a recompute (0 of 4
        # in a 50-round campaign).
        with store._db(immediate=True) as db:
            db.execute("UPDATE runs SET created = (SELECT min(created) FROM runs WHERE status ="
                       " 'queued') - 1 WHERE id = ? AND status = 'queued'", (work_id,))
        row = store.get(work_id)
        retry = (work_id, row["folder"]) if row and row["status"] == "queued" else None
    for _ in range(jobs):
        manager.submit(spec_for(next_seed), wake=False)
        next_seed += 1
    for run in store.list_runs(status="interrupted"):  # struck last round: ask again
        manager.submit(RunSpec(**run["spec"]), force=run["id"].endswith(RETRY), wake=False)
    return next_seed, retry


def struck_recompute(store: Store, retry: tuple[str, str] | None) -> bool:
    """Did the strike land in the forced re-run: its row still running (before recovery),
    or already swapped in (its folder now the finished run's)?"""
    if retry is None:
        return False
    work_id, folder = retry
    row, finished = store.get(work_id), store.get(work_id[: -len(RETRY)])
    return (row is not None and row["status"] == "running") or (
        row is None and finished is not None and finished["folder"] == folder)


def kill_at_random(manager: JobManager, rng: random.Random, forced: bool) -> tuple[bool, str]:
    manager.executor.wake()
    # Start-up alone takes seconds: spread the kills over all of it, and in forced rounds
    # kill inside the first two seconds, while the re-run is still queued or starting.
    time.sleep(rng.uniform(0.3, 2.0) if forced else rng.uniform(0.5, 16.0))
    in_flight = retry_live(manager.store)
    for worker in manager.executor.processes:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(30)
    return in_flight, "at random"


def kill_at_point(manager: JobManager, point: str, retry: tuple[str, str] | None,
                  tally: Tally) -> tuple[bool, str]:
    with fault_at(point):
        manager.executor.wake()
    workers = manager.executor.processes
    end_workers(workers, REACH_SECONDS)
    hit = sum(w.returncode == -signal.SIGKILL for w in workers)  # killed themselves: the point
    in_flight = struck_recompute(manager.store, retry)
    tally.reached[point] += hit
    tally.missed[point] += len(workers) - hit
    return in_flight, f"at {point} ({hit}/{len(workers)})"


def pause_owner(store: Store, manager: JobManager, point: str, jobs: int,
                tally: Tally) -> tuple[bool, list[str], str]:
    """Pause the workers at point, let fresh workers take over and finish their runs, resume
    the paused ones; return (re-run in flight, stale writes, what happened)."""
    with fault_at(f"{point}:pause"):
        manager.executor.wake()
    deadline = time.monotonic() + REACH_SECONDS
    workers = manager.executor.processes
    paused = [w for w in workers if wait_stopped(w, deadline)]
    end_workers([w for w in workers if w not in paused], 0)
    tally.reached[f"{point}:pause"] += len(paused)
    tally.missed[f"{point}:pause"] += len(workers) - len(paused)
    pids = {w.pid for w in paused}
    owned = {r["id"] for r in store.list_runs(status="running") if r["pid"] in pids}
    in_flight = any(run_id.endswith(RETRY) for run_id in owned)
    # Alive but silent: taken for dead only once the heartbeat is STALE seconds old.
    deadline = time.monotonic() + STALE + 30
    while owned & {r["id"] for r in store.list_runs(status="running")}:
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
        store.recover_interrupted(stale_seconds=STALE)
    takeover = JobManager(store, ProcessExecutor(store, jobs=jobs, idle_exit_seconds=1.0))
    for run in store.list_runs(status="interrupted"):
        takeover.submit(RunSpec(**run["spec"]), force=run["id"].endswith(RETRY), wake=False)
    takeover.executor.wake()
    deadline = time.monotonic() + REACH_SECONDS * 2
    while (store.list_runs(status="queued") or store.list_runs(status="running")) and (
            time.monotonic() < deadline):
        time.sleep(0.5)
        store.recover_interrupted()  # a takeover worker that died: its run ends interrupted
    end_workers(takeover.executor.processes, 30)
    before = snapshot(store)
    for worker in paused:
        os.kill(worker.pid, signal.SIGCONT)
    stuck = end_workers(paused, 60)  # woken, each records nothing, finds no work and exits
    # Seen before the recovery, which removes folders no row names (a stale owner's among them).
    writes = stale_writes(before, snapshot(store))
    store.recover_interrupted()
    return in_flight, writes, (f"paused at {point} ({len(paused)}/{len(workers)}), taken over, "
                               f"resumed" + (f", {stuck} never ended" if stuck else ""))


def campaign(root: Path, kills: int, seed: int, echo=print, jobs: int = 1) -> Tally:
    """Run the campaign of `kills` rounds in the store at root with `jobs` workers; return
    the tally."""
    rng = random.Random(seed)
    store = Store(root, mirrors=[])  # the campaign's own runs only, no shipped ones
    inline = JobManager(store, InlineExecutor(store))
    first = inline.submit(spec_for(0))  # one finished run before the first strike
    done_ids = {first.run_id} if store.get(first.run_id)["status"] == "done" else set()
    tally, next_seed = Tally(), 1
    for round_ in range(kills):
        kind = round_kind(round_)
        nth = tally.kinds[kind]
        tally.kinds[kind] += 1
        # Every other round of a kind (every other cycle of its points) forces a re-run.
        cycle = {"random": 1, "point": len(FAULT_POINTS), "paused": len(PAUSE_POINTS)}[kind]
        forced = (nth // cycle) % 2 == 1 and bool(done_ids)
        idle = 1.0 if kind == "paused" else None  # woken, a paused worker should exit soon
        manager = JobManager(store, ProcessExecutor(store, jobs=jobs, idle_exit_seconds=idle))
        next_seed, retry = queue_round(store, manager, rng, done_ids, forced, jobs, next_seed)
        writes: list[str] = []
        if kind == "random":
            in_flight, how = kill_at_random(manager, rng, forced)
        elif kind == "point":
            in_flight, how = kill_at_point(manager, FAULT_POINTS[nth % len(FAULT_POINTS)], retry,
                                           tally)
        else:
            in_flight, writes, how = pause_owner(
                store, manager, PAUSE_POINTS[nth % len(PAUSE_POINTS)], jobs, tally)
        tally.kills += 1
        tally.forced_in_flight += in_flight
        tally.tidied += len(unnamed_folders(store))
        store.recover_interrupted()  # what the app's next poll does: notice the dead worker
        # and remove the folders no row names that the kill left
        done_ids |= {r["id"] for r in store.list_runs(status="done")}
        lost = lost_results(store, done_ids)
        stranded = [r["id"] for r in store.list_runs(status="running")]
        damage = store.check()
        tally.lost += lost
        tally.stranded += stranded
        tally.damage += damage
        tally.stale_writes += writes
        tally.survived += not (lost or stranded or damage or writes)
        echo(f"round {round_ + 1:3d}/{kills} {how}: after {len(done_ids)} finished, forced "
             f"re-run in flight {'yes' if in_flight else 'no '}, lost {len(lost)}, stranded "
             f"{len(stranded)}, damage {len(damage)}, stale writes {len(writes)}")
    tally.finished = len(done_ids)
    tally.unnamed = len(unnamed_folders(store))
    return tally


def main(argv: list[str]) -> int:
    parser = OneLineParser(prog="python -m engine bench faults")
    parser.add_argument("--kills", type=int, default=20,
                        help="rounds: kill -9 at random or at a write point, or a pause (default 20)")
    parser.add_argument("--jobs", type=int, default=1, help="workers training at once (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the kill moments")
    parser.add_argument("--store", help="an empty folder for the store (default: a temp one)")
    args = parser.parse_args(argv)
    if args.kills < 1 or args.jobs < 1:
        parser.error("--kills and --jobs must be 1 or more")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="top10-faults-") as temp:
        root = Path(args.store) if args.store else Path(temp) / "store"
        if root.exists() and any(root.iterdir()):
            parser.error(f"--store {root} is not empty")
        tally = campaign(root, args.kills, args.seed, jobs=args.jobs)
    kinds = tally.kinds
    print(f"rounds survived ({args.jobs} at once): {tally.survived}/{tally.kills}: "
          f"{kinds['random']} kills at random moments, {kinds['point']} at write points, "
          f"{kinds['paused']} paused owners (forced re-run in flight at "
          f"{tally.forced_in_flight} of them); finished runs kept: {tally.finished}; "
          f"{time.perf_counter() - started:.0f} s, load {os.getloadavg()[0]:.2f}")
    order = (*FAULT_POINTS, *(f"{p}:pause" for p in PAUSE_POINTS))
    points = [p for p in order if tally.reached[p] + tally.missed[p]]
    print("workers struck at their point: " + ", ".join(
        f"{p} {tally.reached[p]}/{tally.reached[p] + tally.missed[p]}" for p in points))
    print(f"results lost: {len(tally.lost)}")
    print(f"rows stranded: {len(tally.stranded)}")
    print(f"store damage: {len(tally.damage)}" + (f" ({tally.damage[0]})" if tally.damage else ""))
    print(f"writes by a stale owner: {len(tally.stale_writes)}"
          + (f" ({tally.stale_writes[0]})" if tally.stale_writes else ""))
    print(f"folders no row names: {tally.unnamed} after the final recovery ({tally.tidied} "
          "left by kills between a commit and the removal of the folder it replaced, removed by "
          "the recovery after their round)")
    missed = sum(tally.missed.values())
    if missed:
        print(f"workers that never reached their point: {missed} (those strikes tested nothing)")
    bad = tally.lost or tally.stranded or tally.damage or tally.stale_writes or missed or \
        tally.unnamed
    return 1 if bad else 0
