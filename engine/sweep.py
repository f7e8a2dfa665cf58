"""Sweeps: one algorithm variant over a grid of settings and several seeds.

Every grid point x seed is an ordinary RunSpec, built and validated before anything runs,
so the runs are stored, served again and shown by Compare and Runs like any other. Pure
functions here (parse, build, summarize, link); `train` submits the specs and drives them
with the process or the Ray executor (used by `python -m engine sweep` and the bench).
"""
from __future__ import annotations

import dataclasses
import itertools
import math
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

from engine import registry, settings
from engine.core import ConfigError, RunSpec, config_fields, shown, value_text
from engine.jobs import InlineExecutor, JobManager, execute
from engine.names import LIVE
from engine.store import Store
from engine.terminal import parse_sets

MAX_RUNS = 400  # more is a typo more often than a plan; split it into several sweeps


@dataclass(frozen=True)
class Sweep:
    algorithm: str
    variant: str
    preset: str
    grid: dict[str, tuple]  # field -> its values, as the config holds them, in order
    seeds: tuple[int, ...]
    fixed: dict[str, str]  # other settings changed from the preset, the same for all points
    points: tuple[dict, ...]  # one dict field -> value per grid point
    specs: tuple[tuple[RunSpec, ...], ...]  # specs[point][seed index]

    def all_specs(self) -> list[RunSpec]:
        return [spec for point in self.specs for spec in point]

    def run_ids(self) -> list[list[str]]:
        return [[registry.run_id(s) for s in point] for point in self.specs]


# ---- parsing ---------------------------------------------------------------------------------
def parse_grid(items: list[str]) -> dict[str, list[str]]:
    """["lr=1e-3,3e-3", "hidden=64,128"] -> {"lr": ["1e-3", "3e-3"], "hidden": [...]}."""
    grid: dict[str, list[str]] = {}
    for item in items:
        name, sep, values = item.partition("=")
        name = name.strip()
        parts = [v.strip() for v in values.split(",")]
        if not sep or not name or not all(parts):
            raise ConfigError("error.grid_pair", item=repr(item))
        if name in grid:
            raise ConfigError("error.grid_twice", name=name)
        grid[name] = parts
    return grid


MAX_SEEDS_TEXT = 200  # characters: '0-4,10,12-15' needs a handful
MAX_LINK_VALUE = 2000  # characters of one link value: a big grid needs a few hundred


def parse_seeds(text: str) -> list[int]:
    """'0-4' -> [0, 1, 2, 3, 4]; '0,3,7' -> [0, 3, 7]; '2' -> [2]. The count is taken from
    the bounds and refused over MAX_RUNS before any list is built: a link naming
    0-30000000 must not allocate gigabytes."""
    text = str(text)
    if len(text) > MAX_SEEDS_TEXT:
        raise ConfigError("error.seeds_form", text=shown(text))
    spans: list[range] = []
    for part in text.split(","):
        low, dash, high = part.strip().partition("-")
        if not all(b.isascii() and b.isdigit() and len(b) <= 10 for b in ((low, high) if dash
                                                                          else (low,))):
            raise ConfigError("error.seeds_form", text=shown(text))
        span = range(int(low), int(high) + 1) if dash else range(int(low), int(low) + 1)
        if not span:
            raise ConfigError("error.seed_range_empty", part=repr(part.strip()))
        if span[-1] > registry.SEED_MAX:
            raise ConfigError("error.seeds_form", text=shown(text))
        spans.append(span)
    if (count := sum(map(len, spans))) > MAX_RUNS:  # ranges know their length: nothing built
        raise ConfigError("error.sweep_too_big", count=count, most=MAX_RUNS)
    seeds = [seed for span in spans for seed in span]
    if len(set(seeds)) != len(seeds):
        raise ConfigError("error.seed_twice", text=shown(text))
    return seeds


def format_seeds(seeds: tuple[int, ...] | list[int]) -> str:
    """The inverse of parse_seeds, as short as it gets: [0, 1, 2, 5] -> '0-2,5'."""
    parts, run = [], [seeds[0]]
    for seed in seeds[1:]:
        if seed == run[-1] + 1:
            run.append(seed)
        else:
            parts.append(run)
            run = [seed]
    parts.append(run)
    return ",".join(f"{r[0]}-{r[-1]}" if len(r) > 2 else ",".join(map(str, r)) for r in parts)


def point_label(point: Mapping) -> str:
    return " ".join(f"{k}={value_text(v)}" for k, v in point.items())


# ---- building ----------------------------------------------------------------------------
def _from_sweep(spec: RunSpec) -> RunSpec:
    """A point whose settings differ from its preset is labelled 'sweep', not 'custom', so
    Runs says where it came from; a point at a preset's defaults keeps that preset's name.
    The label is not part of the run id: the same settings trained on a page are this run."""
    return dataclasses.replace(spec, preset="sweep") if spec.preset == "custom" else spec


def build(algorithm: str, variant: str, preset: str, grid: Mapping[str, list],
          seeds: list[int], fixed: Mapping[str, str] | None = None) -> Sweep:
    """Every spec of the sweep, validated; a bad combination raises ConfigError naming it."""
    card = registry.card(algorithm)
    fixed = dict(fixed or {})
    if not grid:
        raise ConfigError("error.sweep_no_grid")
    if not seeds:
        raise ConfigError("error.sweep_no_seed")
    known = [f.name for f in config_fields(card.config_cls)]
    for name in grid:
        if name == "seed":
            raise ConfigError("error.seed_not_grid")
        if name not in known:
            raise ConfigError("error.unknown_setting_for", name=repr(name), algorithm=algorithm,
                              known=", ".join(known))
        if name in fixed:
            raise ConfigError("error.grid_and_fixed", name=name)
    count = math.prod(len(v) for v in grid.values()) * len(seeds)
    if count > MAX_RUNS:
        raise ConfigError("error.sweep_too_big", count=count, most=MAX_RUNS)
    points, specs = [], []
    for combo in itertools.product(*grid.values()):
        raw = dict(zip(grid, combo))
        try:
            row = tuple(_from_sweep(registry.build_spec(algorithm, variant, preset,
                                                        {**fixed, **raw}, seed))
                        for seed in seeds)
        except ConfigError as error:
            raise ConfigError("error.grid_point", point=point_label(raw), reason=error) from None
        point = {name: row[0].config[name] for name in grid}
        if point in points:
            raise ConfigError("error.grid_point_twice", point=point_label(point))
        points.append(point)
        specs.append(row)
    values = {name: tuple(dict.fromkeys(p[name] for p in points)) for name in grid}
    return Sweep(algorithm, variant, preset, values, tuple(seeds), fixed, tuple(points),
                 tuple(specs))


# ---- results -----------------------------------------------------------------------------
def summarize(sweep: Sweep, rows: Mapping[str, dict]) -> pd.DataFrame:
    """One row per grid point: its field values, runs done / total, the headline metric's
    mean and sample standard deviation over the seeds done, and mean train seconds."""
    card = registry.card(sweep.algorithm)
    records = []
    for point, ids in zip(sweep.points, sweep.run_ids()):
        done = [rows[i] for i in ids if i in rows and rows[i]["status"] == "done"]
        values = [r["metrics"][card.headline] for r in done if card.headline in r["metrics"]]
        seconds = [r["train_seconds"] for r in done if r["train_seconds"] is not None]
        series = pd.Series(values, dtype=float)
        records.append({**point, "done": len(done), "runs": len(ids),
                        "mean": series.mean() if values else math.nan,
                        "std": series.std(ddof=1) if len(values) > 1 else math.nan,
                        "train seconds": sum(seconds) / len(seconds) if seconds else math.nan})
    return pd.DataFrame(records)


def best_index(sweep: Sweep, table: pd.DataFrame) -> int | None:
    """Row of the best grid point by mean headline (None while no point has a result)."""
    means = table["mean"].dropna()
    if means.empty:
        return None
    higher = registry.card(sweep.algorithm).higher_is_better
    return int(means.idxmax() if higher else means.idxmin())


def progress(sweep: Sweep, rows: Mapping[str, dict]) -> tuple[int, int, float]:
    """(runs done, runs ended in any way, overall fraction with running runs' progress)."""
    ids = [i for point in sweep.run_ids() for i in point]
    present = [rows[i] for i in ids if i in rows]
    done = sum(r["status"] == "done" for r in present)
    ended = sum(r["status"] not in LIVE for r in present)
    partial = sum(float(r["progress"] or 0) for r in present if r["status"] == "running")
    return done, ended, (ended + partial) / len(ids)


def table_text(sweep: Sweep, table: pd.DataFrame) -> str:
    """The CLI's table: one line per grid point, the best one marked."""
    card = registry.card(sweep.algorithm)
    best = best_index(sweep, table)
    fields = list(sweep.grid)
    head = [*fields, f"{card.headline} mean ± std", "done", "train s"]
    lines = []
    for row in table.to_dict("records"):
        shown = "-" if math.isnan(row["mean"]) else (
            f"{row['mean']:.4f} ± {row['std']:.4f}" if not math.isnan(row["std"])
            else f"{row['mean']:.4f}")
        took = "-" if math.isnan(row["train seconds"]) else f"{row['train seconds']:.1f}"
        lines.append([*(value_text(row[f]) for f in fields), shown,
                      f"{row['done']}/{row['runs']}", took])
    widths = [max(len(x) for x in column) for column in zip(head, *lines)]
    out = ["  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip()]
    out += ["  ".join(x.ljust(w) for x, w in zip(line, widths)).rstrip()
            + ("   <- best" if i == best else "") for i, line in enumerate(lines)]
    seeds = format_seeds(sweep.seeds)
    out.append(f"{card.headline_label} over seeds {seeds} (std: sample, n-1); "
               f"{sweep.algorithm}/{sweep.variant}, preset {sweep.preset}")
    return "\n".join(out)


# ---- shareable link ----------------------------------------------------------------------------
def to_query(sweep: Sweep) -> dict[str, str]:
    """Query parameters that rebuild the sweep: ?algorithm=dnn&variant=mlp&preset=quick
    &grid=lr:0.001,0.003;hidden:64,128&seeds=0-4 (plus set=k:v;... for fixed settings)."""
    def pairs(mapping: Mapping) -> str:
        return ";".join(f"{k}:{','.join(value_text(v) for v in vs)}" for k, vs in mapping.items())

    query = {"algorithm": sweep.algorithm, "variant": sweep.variant, "preset": sweep.preset,
             "grid": pairs(sweep.grid), "seeds": format_seeds(sweep.seeds)}
    if sweep.fixed:
        query["set"] = pairs({k: [v] for k, v in sweep.fixed.items()})
    return query


def from_query(query: Mapping[str, str]) -> Sweep:
    """The sweep a link names; ConfigError with the reason when it names no valid sweep."""
    def pairs(text: str) -> dict[str, list[str]]:
        return parse_grid([p.replace(":", "=", 1) for p in text.split(";") if p.strip()])

    if long := [k for k, v in query.items() if len(str(v)) > MAX_LINK_VALUE]:
        raise ConfigError("error.link_value_long", name=shown(long[0]), most=MAX_LINK_VALUE)
    missing = [k for k in ("algorithm", "variant", "grid", "seeds") if not query.get(k)]
    if missing:
        raise ConfigError("error.link_lacks", missing=", ".join(missing))
    fixed = {k: v[0] for k, v in pairs(query.get("set", "")).items()}
    return build(query["algorithm"], query["variant"], query.get("preset", "standard"),
                 pairs(query["grid"]), parse_seeds(query["seeds"]), fixed)


# ---- running -----------------------------------------------------------------------------
def train(store: Store, sweep: Sweep, kind: str = "process", force: bool = False,
          echo: Callable[[float, str], None] | None = None, executor=None) -> dict[str, dict]:
    """Submit every spec (stored ones are served), train the rest with `kind` ('process':
    one after another here; 'ray': as Ray tasks), wait for any another process is
    running, and return the store rows by run id. `executor` replaces the Ray executor
    (the bench passes one to read its timings)."""
    manager = JobManager(store, InlineExecutor(store))
    submitted = [manager.submit(spec, force=force, wake=False) for spec in sweep.all_specs()]
    todo = [s.run_id for s in submitted if not s.cached]
    if kind == "ray":
        if executor is None:
            from engine.ray_executor import RayExecutor

            executor = RayExecutor(store, echo=echo)
        executor.drain(todo)
    else:
        for run_id in todo:
            claimed = store.claim_next(run_id)
            if claimed is not None:
                execute(store, claimed, echo)
    ids = [s.run_id for s in submitted]
    while any(r["status"] in LIVE for r in store.get_many(ids).values()):
        time.sleep(1.0)  # another process (the app's worker) holds some: wait for them
        manager.refresh()
    return store.get_many(ids)


def command(args, store: Store) -> int:
    """`python -m engine sweep ...` (arguments parsed in engine/cli.py)."""
    kind = args.executor or settings.executor()
    sweep = build(args.algorithm, args.variant, args.preset, parse_grid(args.grid),
                  parse_seeds(args.seeds), parse_sets(args.set or []))
    ids = [i for point in sweep.run_ids() for i in point]
    print(f"sweep {sweep.algorithm}/{sweep.variant}: {len(sweep.points)} grid points x "
          f"{len(sweep.seeds)} seeds = {len(ids)} runs, executor {kind}",
          file=sys.stderr)
    last = [0.0]

    def echo(fraction: float, note: str) -> None:  # overall progress, at most twice a second
        if time.monotonic() - last[0] < 0.5:
            return
        last[0] = time.monotonic()
        done, ended, overall = progress(sweep, store.get_many(ids))
        print(f"\r[sweep] {100 * overall:5.1f}%  {done}/{len(ids)} done, "
              f"{ended - done} ended otherwise", end="", file=sys.stderr, flush=True)

    rows = train(store, sweep, kind, args.force, echo)
    print(file=sys.stderr)
    print(table_text(sweep, summarize(sweep, rows)))
    failed = [r for r in rows.values() if r["status"] != "done"]
    for run in failed:
        reason = (run["error"] or run["status"]).split("\n")[0]
        print(f"{run['id']}: {run['status']}: {reason}", file=sys.stderr)
    return 1 if failed else 0
