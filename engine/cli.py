"""Headless entry point: python -m engine list | run | runs | store | bench | sweep | export.

Progress goes to stderr; with --json, stdout holds one JSON object per run.
Bad arguments exit 2 with one line; a run that fails makes the exit code 1.
The parser is built from engine.names (keys, presets) alone: the commands, and with them
the algorithm modules and torch, are imported (engine.commands) only once one runs.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys

from engine import i18n, names, settings
from engine.core import ConfigError
from engine.core import shown as clip
from engine.data import DataMissing
from engine.store import StoreError
from engine.terminal import OneLineParser


def cli_lang() -> str:
    """TOP10_LANG for the CLI's messages: English unless set to zh (or a zh locale name)."""
    raw = settings.lang_raw()
    if not raw:
        return i18n.ENGLISH
    lang = i18n.match(raw)
    if lang is None:
        raise ConfigError("error.lang_env", value=repr(raw), langs=" or ".join(i18n.LANGS))
    return lang


def ascii_int(text: str) -> int:
    """An integer written in ASCII digits (int() also takes '٣' and other Unicode digits)."""
    body = text.strip()
    if not (body.lstrip("+-").isascii() and body.lstrip("+-").isdigit()) or \
            body[:2] in ("++", "--", "+-", "-+"):
        raise argparse.ArgumentTypeError(f"expected an integer in ASCII digits, got {clip(text)}")
    return int(body)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m engine", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    sub.add_parser("list", help="algorithms, variants and presets")
    run = sub.add_parser("run", help="train (or fetch from the store) one algorithm's variants")
    run.add_argument("algorithm", help="one of: " + ", ".join(names.KEYS))
    run.add_argument("--variant", action="append", help="repeatable; default: all variants")
    run.add_argument("--preset", default="standard", choices=names.PRESETS)
    run.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a setting")
    run.add_argument("--seed", type=ascii_int, default=0)
    run.add_argument("--force", action="store_true", help="recompute even if stored")
    run.add_argument("--json", action="store_true", help="one JSON object per run on stdout")
    runs = sub.add_parser("runs", help="list stored runs")
    runs.add_argument("--algorithm")
    runs.add_argument("--status")
    runs.add_argument("--json", action="store_true")
    store = sub.add_parser("store", help="check or repair the run store; export or refresh "
                           "a folder of shipped results")
    store.add_argument("action", choices=("check", "repair", "export", "refresh"))
    store.add_argument("folder", nargs="?", help="export/refresh: the shipped folder (results/)")
    store.add_argument("--preset", default=None, choices=names.PRESETS,
                       help="export: only runs at this preset; refresh: the preset to train "
                            "(default standard)")
    store.add_argument("--algorithm", action="append", help="repeatable; default: all ten")
    store.add_argument("--jobs", type=ascii_int, default=1,
                       help="refresh: runs trained at once, each in a worker process at "
                            "TOP10_THREADS threads, the longest first (default 1)")
    store.add_argument("--check", action="store_true",
                       help="export: list shipped runs that are stale, unfit, changed since "
                            "export (artifact checksums, manifest digest) or unsealed; exit 1 "
                            "if any")
    store.add_argument("--seal", action="store_true",
                       help="with --check: write the digest into manifests exported without "
                            "one, once their artifacts match their checksums")
    bench = sub.add_parser("bench", help="speed/quality benchmark of one algorithm, `app`, or "
                           "`peers` (ours against the peers side by side)")
    bench.add_argument("algorithm")
    bench.add_argument("rest", nargs=argparse.REMAINDER)
    sweep = sub.add_parser("sweep", help="one variant over a grid of settings and seeds")
    sweep.add_argument("algorithm", help="one of: " + ", ".join(names.KEYS))
    sweep.add_argument("--variant", required=True)
    sweep.add_argument("--grid", action="append", required=True, metavar="FIELD=V1,V2",
                       help="repeatable; the grid is every combination")
    sweep.add_argument("--seeds", default="0", help="e.g. 0-4 or 0,3,7 (default 0)")
    sweep.add_argument("--preset", default="standard", choices=names.PRESETS)
    sweep.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="a setting fixed for every point")
    sweep.add_argument("--executor", choices=settings.EXECUTORS, default=None,
                       help="process (one run after another) or ray; default TOP10_EXECUTOR")
    sweep.add_argument("--force", action="store_true", help="recompute even if stored")
    export = sub.add_parser("export", help="write finished runs as TensorBoard event files or "
                            "an MLflow file store (pip install -r requirements-export.txt)")
    export.add_argument("tool", choices=("tensorboard", "mlflow"))
    export.add_argument("folder", help="the TensorBoard logdir or MLflow store to write")
    export.add_argument("--algorithm", action="append", help="repeatable; default: all ten")
    export.add_argument("--preset", default=None, choices=names.PRESETS,
                        help="only runs at this preset (default: any)")
    worker = sub.add_parser("worker", help="(internal) the app's training worker process")
    worker.add_argument("store")
    worker.add_argument("--idle-exit", type=float, default=120.0,
                        help="exit after this many seconds with nothing to claim")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        lang = cli_lang()  # TOP10_LANG: the language of the one-line errors
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from engine import commands  # the registry, the store, the jobs: for a command that runs

    try:
        return commands.COMMANDS[args.command](args)
    except ConfigError as error:
        print(f"error: {error.text(lang)}", file=sys.stderr)
        return 2
    except (DataMissing, StoreError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `python -m engine list | head -1`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
