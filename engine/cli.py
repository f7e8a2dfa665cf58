"""Headless entry point: python -m engine list | run | runs | bench.

Progress goes to stderr; with --json, stdout holds one JSON object per run.
Bad arguments exit 2 with one line; a run that fails makes the exit code 1.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
import time

from engine import i18n, registry, settings
from engine.core import ConfigError
from engine.data import DataMissing
from engine.jobs import InlineExecutor, JobManager, execute
from engine.store import Store


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints the whole usage; we print one line
        self.exit(2, f"error: {message}\n")


def parse_sets(pairs: list[str]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError("error.set_pair", pair=repr(pair))
        values[key.strip()] = value.strip()
    return values


def run_record(store: Store, run_id: str, cached: bool) -> dict:
    row = store.get(run_id)
    return {"run_id": run_id, "algorithm": row["algorithm"], "variant": row["variant"],
            "preset": row["preset"], "seed": row["seed"], "status": row["status"],
            "cached": cached, "train_seconds": row["train_seconds"], "params": row["params"],
            "metrics": row["metrics"], "error": (row["error"] or "").split("\n")[0] or None}


def command_list(args) -> int:
    for key in registry.KEYS:
        c = registry.card(key)
        print(f"{key:12s} {c.title}  [{c.family}]  headline: {c.headline}")
        for name, text in c.variants.items():
            print(f"    --variant {name:14s} {text}")
        print(f"    presets: {', '.join(c.presets)}")
    return 0


def command_run(args) -> int:
    card = registry.card(args.algorithm)
    variants = args.variant or list(card.variants)
    overrides = parse_sets(args.set or [])
    specs = [registry.build_spec(args.algorithm, v, args.preset, overrides, args.seed)
             for v in variants]  # validate all before running any
    store = Store(settings.store_dir())
    manager = JobManager(store, InlineExecutor(store))
    failed = False
    for spec in specs:
        label = f"{spec.algorithm}/{spec.variant}"

        def echo(fraction: float, note: str, label=label) -> None:
            print(f"\r[{label}] {100 * fraction:5.1f}% {note:30s}", end="", file=sys.stderr,
                  flush=True)

        submission = manager.submit(spec, force=args.force, wake=False)
        if not submission.cached:
            claimed = store.claim_next(submission.run_id)
            if claimed is not None:
                execute(store, claimed, echo)
            else:  # another process (the app's worker) is running it: wait for it
                while store.get(submission.run_id)["status"] in ("queued", "running"):
                    time.sleep(1.0)
                    manager.refresh()
            print(file=sys.stderr)
        record = run_record(store, submission.run_id, submission.cached)
        failed |= record["status"] != "done"
        if args.json:
            print(json.dumps(record), flush=True)
        else:
            headline = record["metrics"].get(card.headline)
            shown = f"{card.headline}={headline:.4f}" if headline is not None else record["error"]
            seconds = record["train_seconds"]
            took = f"{seconds:.1f}s" if seconds is not None else "-"
            print(f"{label:24s} {record['status']:10s} {shown}  train {took}"
                  f"{'  (cached)' if record['cached'] else ''}  id {record['run_id']}")
    return 1 if failed else 0


def command_runs(args) -> int:
    store = Store(settings.store_dir())
    store.recover_interrupted()
    for row in store.list_runs(args.algorithm, args.status):
        if args.json:
            print(json.dumps(run_record(store, row["id"], cached=True)))
            continue
        card = registry.card(row["algorithm"])
        value = row["metrics"].get(card.headline)
        shown = f"{card.headline}={value:.4f}" if value is not None else ""
        print(f"{row['id']:36s} {row['status']:11s} {row['preset'] or '':9s} {shown}")
    return 0


def command_bench(args) -> int:
    if args.algorithm not in (*registry.KEYS, "app", "peers", "sweep"):
        raise ConfigError("error.unknown_benchmark", name=repr(args.algorithm),
                          known=", ".join([*registry.KEYS, "app", "peers", "sweep"]))
    try:
        module = importlib.import_module(f"engine.bench.{args.algorithm}")
    except ModuleNotFoundError:
        raise ConfigError("error.no_benchmark", name=args.algorithm) from None
    return module.main(args.rest) or 0


def command_sweep(args) -> int:
    from engine import sweep

    return sweep.command(args, Store(settings.store_dir()))


def command_worker(args) -> int:
    from engine.jobs import worker_main

    worker_main(args.store)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m engine", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    sub.add_parser("list", help="algorithms, variants and presets")
    run = sub.add_parser("run", help="train (or fetch from the store) one algorithm's variants")
    run.add_argument("algorithm", help="one of: " + ", ".join(registry.KEYS))
    run.add_argument("--variant", action="append", help="repeatable; default: all variants")
    run.add_argument("--preset", default="standard", choices=registry.PRESETS)
    run.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a setting")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--force", action="store_true", help="recompute even if stored")
    run.add_argument("--json", action="store_true", help="one JSON object per run on stdout")
    runs = sub.add_parser("runs", help="list stored runs")
    runs.add_argument("--algorithm")
    runs.add_argument("--status")
    runs.add_argument("--json", action="store_true")
    bench = sub.add_parser("bench", help="speed/quality benchmark of one algorithm, `app`, or "
                           "`peers` (ours against the peers side by side)")
    bench.add_argument("algorithm")
    bench.add_argument("rest", nargs=argparse.REMAINDER)
    sweep = sub.add_parser("sweep", help="one variant over a grid of settings and seeds")
    sweep.add_argument("algorithm", help="one of: " + ", ".join(registry.KEYS))
    sweep.add_argument("--variant", required=True)
    sweep.add_argument("--grid", action="append", required=True, metavar="FIELD=V1,V2",
                       help="repeatable; the grid is every combination")
    sweep.add_argument("--seeds", default="0", help="e.g. 0-4 or 0,3,7 (default 0)")
    sweep.add_argument("--preset", default="standard", choices=registry.PRESETS)
    sweep.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="a setting fixed for every point")
    sweep.add_argument("--executor", choices=settings.EXECUTORS, default=None,
                       help="process (one run after another) or ray; default TOP10_EXECUTOR")
    sweep.add_argument("--force", action="store_true", help="recompute even if stored")
    worker = sub.add_parser("worker", help="(internal) the app's training worker process")
    worker.add_argument("store")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    commands = {"list": command_list, "run": command_run, "runs": command_runs,
                "bench": command_bench, "sweep": command_sweep, "worker": command_worker}
    try:
        lang = i18n.cli_lang()  # TOP10_LANG: the language of the one-line errors
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        return commands[args.command](args)
    except ConfigError as error:
        print(f"error: {error.text(lang)}", file=sys.stderr)
        return 2
    except DataMissing as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
