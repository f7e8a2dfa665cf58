"""The whole product's budget: what Home's "Train all (standard)" costs, card by card.

    python -m engine bench standard [--preset standard] [--algorithms dnn,cnn,...]
                                    [--train-yardstick] [--against KEY=VALUE]

Trains every variant of every card at the preset's defaults, one card after the other, into
a fresh temporary store and data folder (no shipped runs, no trained network left from an
earlier run), on TOP10_THREADS threads, as the worker would. Prints each card's wall time
(data preparation, training and evaluation: what a user waits for) with its headline figure
per variant, the total, and the load average before and after each card.

The GAN and diffusion yardstick (a classifier trained once per dataset) is copied in from
the shipped results, as a hosted deploy has it; --train-yardstick trains it instead, inside
the first card that needs it (its seconds show as prep/seconds).

--against KEY=VALUE (e.g. precision=fp32): a before/after row per card in this one command:
each card first trains with that setting (before), then as the preset has it (after), and
the line gives both wall times, their ratio and both headlines. Cards without the setting
train once.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from engine import registry, settings
from engine.terminal import OneLineParser, Progress, load_line, parse_sets


def headline_text(card, metrics: dict) -> str:
    value = metrics.get(card.headline)
    text = f"{card.headline}={value:.4g}" if value is not None else "no headline"
    prep = metrics.get("prep/seconds")
    return text + (f" (prep {prep:.0f} s)" if prep else "")


def train_card(key: str, preset: str, overrides: dict | None = None) -> tuple[float, list[str], bool]:
    """Every variant of `key` at `preset` (with `overrides`) into the current (fresh)
    store; returns (wall seconds, one 'variant: headline' text per variant, all done?)."""
    from engine.jobs import InlineExecutor, JobManager
    from engine.store import Store

    card = registry.card(key)
    store = Store(settings.store_dir())
    manager = JobManager(store, InlineExecutor(store))
    specs = [registry.build_spec(key, variant, preset, overrides) for variant in card.variants]
    texts, all_done, started = [], True, time.perf_counter()
    for spec in specs:
        progress = Progress(f"{key}/{spec.variant}")
        try:
            submission = manager.run_here(spec, echo=progress)
        finally:
            progress.close()
        row = store.get(submission.run_id)
        done = row["status"] == "done"
        all_done &= done
        texts.append(f"{spec.variant}: " + (headline_text(card, row["metrics"]) if done
                                            else f"{row['status']}: {row['error']}"))
    return time.perf_counter() - started, texts, all_done


@contextlib.contextmanager
def fresh_folders(scratch: str):
    """Point the store and data folder into `scratch`, with no shipped runs (so everything
    trains), and put the caller's settings back afterwards."""
    fresh = {"TOP10_STORE": str(Path(scratch) / "store"),
             "TOP10_DATA_DIR": str(Path(scratch) / "data"), "TOP10_STORE_MIRROR": ""}
    saved = {name: os.environ.get(name) for name in fresh}
    os.environ.update(fresh)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def main(argv: list[str]) -> int:
    parser = OneLineParser(prog="python -m engine bench standard",
                           description="wall time of training every card at a preset")
    parser.add_argument("--preset", default="standard")
    parser.add_argument("--algorithms", default=",".join(registry.KEYS),
                        help=f"comma-separated, from: {','.join(registry.KEYS)}")
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
    sys.stdout.reconfigure(line_buffering=True)
    shipped_nets = settings.REPO_RESULTS / "feature_nets"
    with tempfile.TemporaryDirectory(prefix="top10-budget-") as scratch, fresh_folders(scratch):
        if not args.train_yardstick and shipped_nets.is_dir():
            shutil.copytree(shipped_nets, Path(scratch) / "data" / "feature_nets")
        import torch

        print(f"# bench standard: preset {args.preset}, {settings.threads()} threads "
              f"(TOP10_THREADS), torch {torch.__version__}, device {settings.device()}, "
              f"yardstick {'trained here' if args.train_yardstick else 'from the shipped results'}"
              f"; fresh store and data folder; {load_line()}")
        rows, total, failed = [], 0.0, False  # rows: (label, s, texts, load before, after, in total?)
        for key in keys:
            baseline = None  # wall seconds with --against's setting
            if against and set(against) <= set(registry.card(key).default_config(args.preset)):
                before = load_line()
                baseline, texts, done = train_card(key, args.preset, against)
                failed |= not done
                label = key + " " + ",".join(f"{k}={v}" for k, v in against.items())
                rows.append((label, baseline, texts, before, load_line(), False))
                print(f"{label}: {baseline:7.1f} s  {before} -> {load_line()}  " + "; ".join(texts))
            before = load_line()
            seconds, texts, done = train_card(key, args.preset)
            total += seconds
            failed |= not done
            rows.append((key, seconds, texts, before, load_line(), True))
            ratio = f"  ({baseline / seconds:.2f}x as fast)" if baseline else ""
            print(f"{key:12s} {seconds:7.1f} s{ratio}  {before} -> {load_line()}  " + "; ".join(texts))
    print(f"\n# every card at {args.preset}, one after the other "
          f"({settings.threads()} threads)")
    for label, seconds, texts, before, after, counted in rows:
        print(f"{label:12s} {seconds:7.1f} s  {before} -> {after}"
              + ("" if counted else "  (not in the total)"))
        for text in texts:
            print(f"{'':14s}{text}")
    print(f"{'total':12s} {total:7.1f} s ({total / 60:.1f} min)")
    return 1 if failed else 0
