"""python -m engine bench faults [--kills N] [--jobs J] [--seed S] [--store DIR]

Kill -9 the training workers at seeded random moments and count what survives. With
--jobs J (default 1) J worker processes train at once, as the app's do, and each round kills
all of them. Each round queues J more tiny DNN runs (quick preset, 1 epoch on 1,000
images), asks again for the runs the last kill interrupted and, every other round, forces
a re-run of a finished one, so kills land in start-up, data loading, training, the
artifact write and the swap of a recompute.
After each kill the store is recovered the way the app's next poll does it
(Store.recover_interrupted) and checked:

  results lost   finished runs (done before the kill) that are no longer done with intact,
                 loadable artifacts; must be 0
  rows stranded  rows still `running` once the dead worker has been noticed; must be 0
  damage         problems `python -m engine store check` reports; must be none

It uses its own temporary store (or --store DIR, which must be empty or absent) and the
usual data folders. Wrap it in `flock /tmp/top10-cpu.lock` on a shared machine.
"""
from __future__ import annotations

import os
import random
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from engine import registry
from engine.core import RunSpec
from engine.jobs import InlineExecutor, JobManager, ProcessExecutor
from engine.store import Store
from engine.terminal import OneLineParser

TINY = {"train_limit": 1000, "epochs": 1}


@dataclass
class Tally:
    kills: int = 0
    survived: int = 0
    lost: list[str] = field(default_factory=list)
    stranded: list[str] = field(default_factory=list)
    damage: list[str] = field(default_factory=list)
    forced_in_flight: int = 0  # kills that hit while a forced re-run was queued or running
    finished: int = 0


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


def campaign(root: Path, kills: int, seed: int, echo=print, jobs: int = 1) -> Tally:
    """Run the kill campaign in the store at root with `jobs` workers; return the tally."""
    rng = random.Random(seed)
    store = Store(root, mirrors=[])  # the campaign's own runs only, no shipped ones
    inline = JobManager(store, InlineExecutor(store))
    first = inline.submit(spec_for(0))  # one finished run before the first kill
    done_ids = {first.run_id} if store.get(first.run_id)["status"] == "done" else set()
    tally, next_seed = Tally(), 1
    for round_ in range(kills):
        manager = JobManager(store, ProcessExecutor(store, jobs=jobs))
        forced = round_ % 2 == 1 and done_ids
        if forced:  # queued first, so the worker takes it first and a kill can hit it on any machine
            again = RunSpec(**store.get(rng.choice(sorted(done_ids)))["spec"])
            manager.submit(again, force=True, wake=False)
        for _ in range(jobs):
            manager.submit(spec_for(next_seed), wake=False)
            next_seed += 1
        for run in store.list_runs(status="interrupted"):  # killed last round: ask again
            manager.submit(RunSpec(**run["spec"]), force=run["id"].endswith(".retry"), wake=False)
        manager.executor.wake()
        # Start-up alone takes seconds: spread the kills over all of it, and in forced rounds
        # kill inside the first two seconds, while the re-run is still queued or starting.
        time.sleep(rng.uniform(0.3, 2.0) if forced else rng.uniform(0.5, 16.0))
        in_flight = any(r["id"].endswith(".retry") for r in store.list_runs()
                        if r["status"] in ("queued", "running"))
        for worker in manager.executor.processes:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(30)
        tally.kills += 1
        tally.forced_in_flight += in_flight
        store.recover_interrupted()  # what the app's next poll does: notice the dead worker
        done_ids |= {r["id"] for r in store.list_runs(status="done")}
        lost = lost_results(store, done_ids)
        stranded = [r["id"] for r in store.list_runs(status="running")]
        damage = store.check()
        tally.lost += lost
        tally.stranded += stranded
        tally.damage += damage
        tally.survived += not (lost or stranded or damage)
        echo(f"kill {round_ + 1:3d}/{kills}: after {len(done_ids)} finished, forced re-run in "
             f"flight {'yes' if in_flight else 'no '}, lost {len(lost)}, stranded "
             f"{len(stranded)}, damage {len(damage)}")
    tally.finished = len(done_ids)
    return tally


def main(argv: list[str]) -> int:
    parser = OneLineParser(prog="python -m engine bench faults")
    parser.add_argument("--kills", type=int, default=20, help="how many kill -9 (default 20)")
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
    print(f"kills survived ({args.jobs} at once): {tally.survived}/{tally.kills} (forced re-run in flight at "
          f"{tally.forced_in_flight} of them); finished runs kept: {tally.finished}; "
          f"{time.perf_counter() - started:.0f} s, load {os.getloadavg()[0]:.2f}")
    print(f"results lost: {len(tally.lost)}")
    print(f"rows stranded: {len(tally.stranded)}")
    print(f"store damage: {len(tally.damage)}" + (f" ({tally.damage[0]})" if tally.damage else ""))
    return 0 if not (tally.lost or tally.stranded or tally.damage) else 1
