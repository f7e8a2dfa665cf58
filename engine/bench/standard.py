"""The whole product's budget: what Home's "Train all (standard)" costs, card by card.

    python -m engine bench standard [--preset standard] [--algorithms dnn,cnn,...]
                                    [--jobs J] [--train-yardstick] [--against KEY=VALUE]

Queues every variant of every chosen card at the preset's defaults at once, the longest
first (by the seconds of the runs shipped in results/), into a fresh temporary store and
data folder (no shipped runs, no trained network left from an earlier run), and trains them
the way the app does: J worker processes at once (default TOP10_JOBS, else the cores //
TOP10_THREADS), each on TOP10_THREADS threads. Prints per card the span from its first run's
start to its last run's end and its runs' summed seconds (data preparation, training and
evaluation), the headline figure per variant, and the total: the batch's wall time, what a
user who pressed "Train all" waits for, with the load average before and after.

The GAN and diffusion yardstick (a classifier trained once per dataset) is copied in from
the shipped results, as a hosted deploy has it; --train-yardstick trains it instead, inside
the first card that needs it (its seconds show as prep/seconds).

--against KEY=VALUE (e.g. precision=fp32): a before/after row per card in this one command:
the batch first trains with that setting (before: the cards that have it), then as the
preset has it (after), and each card's line gives both summed seconds, their ratio and both
headlines.
"""
from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from engine import registry, settings
from engine.terminal import OneLineParser, load_line, parse_sets


def headline_text(card, metrics: dict) -> str:
    value = metrics.get(card.headline)
    text = f"{card.headline}={value:.4g}" if value is not None else "no headline"
    prep = metrics.get("prep/seconds")
    return text + (f" (prep {prep:.0f} s)" if prep else "")


@dataclass
class CardRow:
    span: float  # seconds from the card's first run's start to its last run's end
    work: float  # its runs' seconds, summed (each from its claim to its end)
    texts: list[str]  # 'variant: headline' per variant
    done: bool  # every run finished


def train_batch(keys: list[str], preset: str, jobs: int,
                overrides: dict | None = None) -> tuple[float, dict[str, CardRow]]:
    """Every variant of each card in `keys` at `preset` (with `overrides`, for the cards
    that have those settings) into the current (fresh) store, `jobs` at once; returns
    (the batch's wall seconds, a CardRow per card)."""
    from engine import shipped
    from engine.jobs import InlineExecutor, JobManager, train_in_workers
    from engine.store import Store

    store = Store(settings.store_dir())
    specs = [registry.build_spec(key, variant, preset, overrides)
             for key in keys for variant in registry.card(key).variants]
    started = time.perf_counter()
    train_in_workers(JobManager(store, InlineExecutor(store)),
                     shipped.longest_first(specs, settings.REPO_RESULTS), jobs,
                     say=lambda line: print(f"  {line}", flush=True))
    wall = time.perf_counter() - started
    rows = {}
    for key in keys:
        card = registry.card(key)
        runs = [store.get(registry.run_id(s)) for s in specs if s.algorithm == key]
        timed = [r for r in runs if r["started"] and r["finished"]]
        texts = [f"{r['variant']}: " + (headline_text(card, r["metrics"]) if r["status"] == "done"
                                        else f"{r['status']}: {r['error']}") for r in runs]
        rows[key] = CardRow(
            span=max((r["finished"] for r in timed), default=0.0)
            - min((r["started"] for r in timed), default=0.0),
            work=sum(r["finished"] - r["started"] for r in timed), texts=texts,
            done=all(r["status"] == "done" for r in runs))
    return wall, rows


@contextlib.contextmanager
def fresh_folders(scratch: str):
    """Point the store and data folder into `scratch`, with no shipped runs (so everything
    trains), and put the caller's settings back afterwards."""
    with settings.overridden({"TOP10_STORE": str(Path(scratch) / "store"),
                              "TOP10_DATA_DIR": str(Path(scratch) / "data"),
                              "TOP10_STORE_MIRROR": ""}):
        yield


def main(argv: list[str]) -> int:
    parser = OneLineParser(prog="python -m engine bench standard",
                           description="wall time of training every card at a preset")
    parser.add_argument("--preset", default="standard")
    parser.add_argument("--algorithms", default=",".join(registry.KEYS),
                        help=f"comma-separated, from: {','.join(registry.KEYS)}")
    parser.add_argument("--jobs", type=int, default=None,
                        help="runs trained at once (default: TOP10_JOBS, else cores // threads)")
    parser.add_argument("--train-yardstick", action="store_true",
                        help="train the GAN/diffusion yardstick instead of using the shipped one")
    parser.add_argument("--against", metavar="KEY=VALUE",
                        help="also train each card with this setting first: a before/after row")
    args = parser.parse_args(argv)
    against = parse_sets([args.against]) if args.against else {}
    keys = [k.strip() for k in args.algorithms.split(",") if k.strip()]
    if not keys or any(k not in registry.KEYS for k in keys):
        parser.error(f"--algorithms takes some of {','.join(registry.KEYS)}; got {args.algorithms!r}")
    if any(args.preset not in registry.card(k).presets for k in keys):
        parser.error(f"--preset: unknown preset {args.preset!r}")
    jobs = args.jobs if args.jobs is not None else settings.jobs()
    if jobs < 1:
        parser.error(f"--jobs must be 1 or more, got {jobs}")
    sys.stdout.reconfigure(line_buffering=True)
    shipped_nets = settings.REPO_RESULTS / "feature_nets"
    with tempfile.TemporaryDirectory(prefix="top10-budget-") as scratch, fresh_folders(scratch):
        if not args.train_yardstick and shipped_nets.is_dir():
            shutil.copytree(shipped_nets, Path(scratch) / "data" / "feature_nets")
        import torch

        print(f"# bench standard: preset {args.preset}, {jobs} job(s) at once, "
              f"{settings.threads()} thread(s) each (TOP10_THREADS), torch {torch.__version__}, "
              f"device {settings.device()}, yardstick "
              f"{'trained here' if args.train_yardstick else 'from the shipped results'}"
              f"; fresh store and data folder; {load_line()}")
        baseline: dict[str, CardRow] = {}
        with_setting = [k for k in keys if against
                        and set(against) <= set(registry.card(k).default_config(args.preset))]
        if with_setting:
            before = load_line()
            seconds, baseline = train_batch(with_setting, args.preset, jobs, against)
            print(f"before ({args.against}): {seconds:.1f} s  {before} -> {load_line()}")
        before = load_line()
        total, rows = train_batch(keys, args.preset, jobs)
        after = load_line()
    setting = " ".join(f"{k}={v}" for k, v in against.items())
    print(f"\n# every card at {args.preset}, {jobs} at once ({settings.threads()} thread(s) each);"
          " span: first start to last end; work: its runs' seconds summed")
    for key, row in rows.items():
        ratio = ""
        if key in baseline:
            old = baseline[key]
            ratio = f"  (with {setting}: {old.work:.1f} s, {old.work / row.work:.2f}x as long)"
        print(f"{key:12s} span {row.span:7.1f} s  work {row.work:7.1f} s{ratio}")
        for text in row.texts:
            print(f"{'':14s}{text}")
        for text in baseline.get(key, CardRow(0, 0, [], True)).texts:
            print(f"{'':14s}with {setting}: {text}")
    print(f"load {before} -> {after}")
    print(f"{'total':12s} {total:7.1f} s ({total / 60:.1f} min)")
    failed = not all(r.done for r in [*rows.values(), *baseline.values()])
    return 1 if failed else 0
