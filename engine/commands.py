"""What each `python -m engine` command does, once engine.cli has parsed its arguments.
The registry (the algorithm modules, torch), the store and the jobs are imported here, so
`--help` and a mistyped argument never load them."""
from __future__ import annotations

import importlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

from engine import export_runs, names, registry, settings, shipped
from engine.core import ConfigError
from engine.core import shown as clip
from engine.jobs import InlineExecutor, JobManager, train_in_workers, worker_main
from engine.names import STATUSES
from engine.store import Problem, Store
from engine.terminal import Progress, parse_sets


def run_record(store: Store, run_id: str, cached: bool, work_id: str | None = None) -> dict:
    """What --json prints for a run. When a recompute attempt (work_id) did not finish,
    its status and error are shown: the finished result it would have replaced stays."""
    row = store.get(run_id)
    work = store.get(work_id) if work_id and work_id != run_id else None
    if work is not None and work["status"] != "done":
        outcome = work
    else:
        outcome = row
    return {"run_id": run_id, "algorithm": row["algorithm"], "variant": row["variant"],
            "preset": row["preset"], "seed": row["seed"], "status": outcome["status"],
            "cached": cached, "train_seconds": row["train_seconds"], "params": row["params"],
            "metrics": row["metrics"], "error": (outcome["error"] or "").split("\n")[0] or None,
            "shipped": row.get("shipped")}


def command_list(args) -> int:
    for key in registry.KEYS:
        c = registry.card(key)
        print(f"{key:12s} {c.title}  [{c.family}]  headline: {c.headline}")
        for name, text in c.variants.items():
            print(f"    --variant {name:14s} {text}")
        print(f"    presets: {', '.join(c.presets)}")
    return 0


def command_run(args) -> int:
    if args.algorithm not in registry.KEYS:  # the user's text, capped (registry repeats it whole)
        raise ConfigError("error.unknown_algorithm", name=clip(args.algorithm),
                          known=", ".join(registry.KEYS))
    card = registry.card(args.algorithm)
    variants = args.variant or list(card.variants)
    for variant in variants:
        if variant not in card.variants:
            raise ConfigError("error.unknown_variant", variant=clip(variant),
                              algorithm=args.algorithm, known=", ".join(card.variants))
    overrides = parse_sets(args.set or [])
    specs = [registry.build_spec(args.algorithm, v, args.preset, overrides, args.seed)
             for v in variants]  # validate all before running any
    settings.threads()  # a bad TOP10_THREADS is one line here, before anything is claimed
    settings.executor()  # and a bad TOP10_EXECUTOR (run trains inline, but the value is wrong)
    store = Store(settings.store_dir())
    manager = JobManager(store, InlineExecutor(store))
    failed = False
    for spec in specs:
        label = f"{spec.algorithm}/{spec.variant}"
        progress = Progress(label)
        try:
            submission = manager.run_here(spec, force=args.force, echo=progress)
        finally:
            progress.close()
        record = run_record(store, submission.run_id, submission.cached, submission.work_id)
        failed |= record["status"] != "done"
        if args.json:
            print(json.dumps(record), flush=True)
        else:
            headline = record["metrics"].get(card.headline)
            shown = f"{card.headline}={headline:.4f}" if headline is not None else record["error"]
            if record["status"] != "done" and headline is not None:
                shown = f"{record['error']} (the stored result stays: {shown})"
            seconds = record["train_seconds"]
            took = f"{seconds:.1f}s" if seconds is not None else "-"
            print(f"{label:24s} {record['status']:10s} {shown}  train {took}"
                  f"{'  (cached)' if record['cached'] else ''}  id {record['run_id']}")
    return 1 if failed else 0


def command_runs(args) -> int:
    if args.status is not None and args.status not in STATUSES:
        print(f"error: unknown status {clip(args.status)}; known: {', '.join(STATUSES)}",
              file=sys.stderr)
        return 2
    store = Store(settings.store_dir())
    store.recover_interrupted()
    for row in store.list_runs(args.algorithm, args.status):
        if args.json:
            print(json.dumps(run_record(store, row["id"], cached=True)))
            continue
        headline = registry.card(row["algorithm"]).headline if row["algorithm"] in registry.KEYS \
            else None
        value = row["metrics"].get(headline) if headline else None
        shown = f"{headline}={value:.4f}" if value is not None else ""
        print(f"{row['id']:36s} {row['status']:11s} {row['preset'] or '':9s} {shown}"
              + ("  (shipped)" if row.get("shipped") is not None else ""))
    return 0


def command_store(args) -> int:
    """check: one line per problem (exit 1 if any); repair: rebuild from the folders;
    export DIR: ship finished runs into DIR (--check: list stale ones, exit 1 if any);
    refresh DIR: train what DIR lacks at a preset into a temporary store, then export."""
    if args.action in ("export", "refresh"):
        return command_ship(args)
    if args.folder or args.check:
        raise ConfigError("error.store_no_folder", action=args.action)
    store = Store(settings.store_dir(), strict=False)
    if args.action == "check":
        problems = store.check()
        for line in problems:
            print(line)
        mended = sum(isinstance(line, Problem) for line in problems)
        print(f"{store.root}: {len(problems)} problem(s)"
              + (f"; `python -m engine store repair` mends {mended} of them" if mended else "")
              + ("; each other line says what helps" if len(problems) > mended else ""))
        return 1 if problems else 0
    for line in store.repair() or ["nothing to repair"]:
        print(line)
    return 0


def command_ship(args) -> int:
    if not args.folder:
        raise ConfigError("error.store_needs_folder", action=args.action)
    if args.jobs < 1:
        print(f"error: --jobs must be 1 or more, got {args.jobs}", file=sys.stderr)
        return 2
    target = Path(args.folder)
    algorithms = args.algorithm or None
    for key in algorithms or []:
        registry.card(key)
    if args.action == "export" and args.check:
        stale = shipped.stale(target)
        old = [f"{b['run_id']} ({b['folder']}): superseded, the {b['preset']} preset trains "
               f"other settings now" for b in shipped.superseded(target)]
        problems = shipped.verify(target, seal=args.seal)
        for line in stale + old + problems:
            print(line)
        current = len(shipped.Shipped(target).rows)
        print(f"{target}: {current} current shipped run(s), {len(stale)} stale, "
              f"{len(old)} superseded, {len(problems)} damaged or unsealed"
              + ("; `python -m engine store refresh` remakes stale and superseded runs"
                 if stale or old else ""))
        return 1 if stale or old or problems else 0
    if args.action == "export":
        store = Store(settings.store_dir(), mirrors=[])
    else:
        store = Store(tempfile.mkdtemp(prefix="top10-refresh-"), mirrors=[target])
        manager = JobManager(store, InlineExecutor(store))
        specs = [registry.build_spec(key, variant, args.preset or "standard")
                 for key in algorithms or registry.KEYS for variant in registry.card(key).variants]
        for spec in specs:
            if store.get(registry.run_id(spec)):
                print(f"{spec.algorithm}/{spec.variant}: shipped already", flush=True)
        statuses = train_in_workers(manager, shipped.longest_first(specs, target), args.jobs,
                                    say=lambda line: print(line, flush=True))
        failed = [f"{s.algorithm}/{s.variant}" for s in specs
                  if statuses[registry.run_id(s)] != "done"]
        store.mirror_roots = []  # export only what this refresh trained
        for name in shipped.prune(target, algorithms):
            print(f"removed stale {name}")
    sizes = shipped.export(store, target, None if args.action == "refresh" else args.preset,
                           algorithms)
    for key, size in sorted(sizes.items()):
        print(f"{key:12s} {size / 1e6:8.2f} MB exported")
    total = shipped.folder_bytes(target)
    over = f"  (over the {shipped.BUDGET_BYTES / 1e6:.0f} MB budget)"
    print(f"{target}: {total / 1e6:.1f} MB in all" + (over if total > shipped.BUDGET_BYTES else ""))
    if args.action == "refresh" and failed:
        print(f"not shipped, training failed: {', '.join(failed)}; the runs that trained stay "
              f"in {store.root}", file=sys.stderr)
        return 1
    if args.action == "refresh":
        shutil.rmtree(store.root)  # everything it trained is in the target now
    return 0


# benchmarks of the whole product, beside one per algorithm (engine/bench/<name>.py)
PRODUCT_BENCHMARKS = ("app", "faults", "peers", "quick", "standard", "sweep", "threads")


def command_bench(args) -> int:
    known = (*names.KEYS, *PRODUCT_BENCHMARKS)
    if args.algorithm not in known:
        raise ConfigError("error.unknown_benchmark", name=repr(args.algorithm),
                          known=", ".join(known))
    try:
        module = importlib.import_module(f"engine.bench.{args.algorithm}")
    except ModuleNotFoundError:
        raise ConfigError("error.no_benchmark", name=args.algorithm) from None
    return module.main(args.rest) or 0


def command_sweep(args) -> int:
    from engine import sweep  # pandas: only for the command that needs it

    return sweep.command(args, Store(settings.store_dir()))


def command_export(args) -> int:
    return export_runs.command(args, Store(settings.store_dir()))


def command_worker(args) -> int:
    worker_main(args.store, args.idle_exit)
    return 0


COMMANDS = {"list": command_list, "run": command_run, "runs": command_runs,
            "store": command_store, "bench": command_bench, "sweep": command_sweep,
            "export": command_export, "worker": command_worker}
