"""python -m engine bench lstm [--preset P] [--task T] [--variant V ...] [--set KEY=VALUE ...]

Trains (or fetches from the run store, TOP10_STORE) the LSTM page's variants at one preset
and prints one row per variant: the task's figures, parameters, training seconds and
throughput. `--preset full` gives the issue's quality figures (charlm: validation loss in
nats/char; sentiment: test accuracy). Wrap it in `flock /tmp/top10-cpu.lock` on a shared
machine; set TOP10_THREADS=2 to use both cores.
"""
from __future__ import annotations

import argparse
import sys

from engine import registry, settings
from engine.jobs import InlineExecutor, JobManager
from engine.store import Store
from engine.terminal import parse_sets


def parser(key: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python -m engine bench {key}")
    p.add_argument("--preset", default="full", choices=registry.PRESETS)
    p.add_argument("--task", default="charlm", choices=("charlm", "sentiment"))
    p.add_argument("--variant", action="append", help="repeatable; default: all variants")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--seed", type=int, default=0)
    return p


def variant_table(key: str, args) -> int:
    """Run each variant through the store (so the pages show the results) and print a row."""
    card = registry.card(key)
    overrides = {**parse_sets(args.set), "task": args.task}
    specs = [registry.build_spec(key, v, args.preset, overrides, args.seed)
             for v in args.variant or card.variants]
    store = Store(settings.store_dir())
    manager = JobManager(store, InlineExecutor(store))
    print(f"{key} {args.preset} preset, task {args.task}, {settings.threads()} threads")
    for spec in specs:
        submission = manager.submit(spec)  # trains now unless a finished run is stored
        run = store.get(submission.run_id)
        m = run["metrics"]
        if run["status"] != "done":
            print(f"{spec.variant:11s} {run['status']}: {(run['error'] or '').splitlines()[0]}")
            continue
        if args.task == "charlm":
            figures = (f"val/loss {m['val/loss']:.4f} nats/char  val/bpc {m['val/bpc']:.3f}  "
                       f"{m['time/tokens_per_second']:,.0f} tokens/s  {m['steps']:.0f} steps")
        else:
            figures = (f"test/acc {m['test/acc']:.4f}  val/acc {m['val/acc']:.4f}  "
                       f"best epoch {m['best_epoch']:.0f}")
        cached = "  (stored run)" if submission.cached else ""
        print(f"{spec.variant:11s} {figures}  params {run['params']:,}  "
              f"train {run['train_seconds']:.1f} s{cached}", flush=True)
    return 0


def main(argv: list[str]) -> int:
    args = parser("lstm").parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)
    return variant_table("lstm", args)
