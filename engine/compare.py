"""Comparing and listing stored runs: pure functions from store rows to tables, config
diffs, CSV text and URL query parameters. No Streamlit here; pages/compare.py and
pages/runs.py draw what these return.

A run is a row of Store.list_runs / get_many: a dict with id, algorithm, variant, preset,
seed, spec (dict), status, created/started/finished (epoch seconds), metrics (dict),
params, train_seconds and error. Runs of any algorithm may be in the store, also of one
whose module is missing (renamed, not written yet): those show their raw metrics.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from engine import i18n, registry
from engine.core import Card, ConfigError
from engine.i18n import card_text
from engine.names import LIVE
from engine.plots import history_frame

X_AXES = ("step", "seconds")
EXTRA = ("params", "train seconds")  # compared like metrics, after them
MISSING = "—"  # shown for a setting a run does not have


# ---- how a number reads ------------------------------------------------------------------
LABELS = {"test/acc": "test accuracy", "val/acc": "validation accuracy",
          "test/loss": "test loss", "val/loss": "validation loss", "train/loss": "training loss",
          "train/last_epoch_loss": "training loss (last epoch)", "val/bpc": "validation bits/char",
          "time/tokens_per_second": "tokens/s", "time/infer_ms_per_image": "ms per image (inference)",
          "prep/seconds": "preparation seconds", "params": "parameters",
          "train seconds": "training seconds", "best_epoch": "best epoch"}


def metric_label(card: Card | None, key: str) -> str:
    """A column header: the card's own label for the key, else a common one (LABELS, then
    the catalogue's shared `metric.<key>` labels, e.g. "FID, std over seeds"), else the key."""
    if card and key in card.metric_labels:
        return card.metric_labels[key]
    if key in LABELS or card is None:
        return LABELS.get(key, key)
    return card_text.metric_label(card, key, i18n.ENGLISH)


def is_share(key: str) -> bool:
    """Metrics that are a share of 1 (accuracies, coverage), shown as percentages."""
    leaf = key.rsplit("/", 1)[-1]
    return leaf.startswith("acc") or leaf.endswith("coverage")


def number_format(key: str) -> str:
    """A printf format for st.column_config.NumberColumn: percentages for shares, seconds
    and milliseconds with units, counts as integers, anything else to 4 significant digits."""
    if is_share(key):
        return "percent"
    if key in ("params", "steps", "seed") or key.endswith(("epoch", "/steps", "/size")):
        return "%d"
    if "seconds" in key and "per_second" not in key:
        return "%.1f s"
    if key.endswith("_ms") or "_ms_" in key:
        return "%.2f ms"
    return "%.4g"


def format_metric(key: str, value: float) -> str:
    """One value as its table column shows it (number_format), for captions."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    fmt = number_format(key)
    return f"{100 * value:.2f}%" if fmt == "percent" else fmt % value


# ---- one run -----------------------------------------------------------------------------
def card_of(algorithm: str) -> Card | None:
    """The algorithm's card, or None when its module is not there (raw metrics only)."""
    try:
        return registry.card(algorithm)
    except ConfigError:
        return None


def short_id(run_id: str) -> str:
    """`dnn-mlp-4ce0e90eec40` -> `4ce0e9`: enough to tell runs apart in a legend."""
    return run_id.rsplit("-", 1)[-1][:6]


def run_label(run: dict, lang: str = "en") -> str:
    """A name for legends and pickers, unique because it ends with the id's hash."""
    return i18n.t("compare.run_label", lang, algorithm=run["algorithm"], variant=run["variant"],
                  preset=i18n.preset_name(run["preset"], lang),
                  seed=run["seed"], short_id=short_id(run["id"]))


def dataset_of(run: dict) -> str:
    """The config field that names the data (card.data_field), or '' if there is none."""
    card = card_of(run["algorithm"])
    field = card.data_field if card else "dataset"
    return str(run["spec"].get("config", {}).get(field, ""))


def headline(run: dict) -> tuple[str, float] | None:
    """(metric key, value) of the card's headline metric, if the run has it."""
    card = card_of(run["algorithm"])
    if card is None or card.headline not in run["metrics"]:
        return None
    return card.headline, run["metrics"][card.headline]


# What a card's "How it works" text claims, as the measure that must hold for a run to show
# it: (metric, +1: at least / -1: at most, bound). The GAN text says a GAN may collapse and
# the histogram shows it; the diffusion text promises every class kept and high quality.
CLAIMS = {
    "diffusion": (("eval/class_entropy", 1, 0.9), ("eval/fid", -1, 120.0)),
    "gan": (("eval/class_entropy", 1, 0.9), ("eval/recall", 1, 0.3)),
}


def claim_shortfalls(run: dict) -> list[tuple[str, float, int, float]]:
    """(metric, value, direction, bound) for each claim of its card's text that this run's
    metrics do not hold (none for a card without claims, or a metric the run lacks)."""
    metrics = run.get("metrics") or {}
    return [(key, metrics[key], direction, bound)
            for key, direction, bound in CLAIMS.get(run["algorithm"], ())
            if key in metrics and (metrics[key] - bound) * direction < 0]


def first_line(error: str | None) -> str:
    return (error or "").strip().split("\n")[0]


# ---- picking runs ------------------------------------------------------------------------
def filter_runs(runs: list[dict], algorithms: Iterable[str] = (), variants: Iterable[str] = (),
                datasets: Iterable[str] = (), presets: Iterable[str] = (),
                statuses: Iterable[str] = ()) -> list[dict]:
    """Keep the runs that match every non-empty filter (an empty filter keeps all)."""
    tests = [(set(algorithms), lambda r: r["algorithm"]), (set(variants), lambda r: r["variant"]),
             (set(datasets), dataset_of), (set(presets), lambda r: r["preset"]),
             (set(statuses), lambda r: r["status"])]
    return [r for r in runs if all(not wanted or get(r) in wanted for wanted, get in tests)]


def metric_keys(runs: list[dict]) -> list[str]:
    """Final metric keys over the runs: headlines first, then each card's declared
    metrics, then whatever else the runs hold, alphabetically."""
    cards = [card_of(r["algorithm"]) for r in runs]
    held = set().union(*(r["metrics"] for r in runs)) if runs else set()
    ordered = [c.headline for c in cards if c] + [m for c in cards if c for m in c.metrics]
    ordered += sorted(held)
    return [k for k in dict.fromkeys(ordered) if k in held]


def better_direction(runs: list[dict]) -> dict[str, int]:
    """metric -> +1 (higher is better) or -1, for the headline metrics of the runs' cards."""
    cards = [c for c in (card_of(r["algorithm"]) for r in runs) if c]
    return {c.headline: 1 if c.higher_is_better else -1 for c in cards}


# ---- the comparison table ----------------------------------------------------------------
def final_values(runs: list[dict], lang: str = "en") -> pd.DataFrame:
    """One row per run (index: run id): who it is, every final metric, params and train
    seconds. A metric a run lacks is NaN."""
    keys = metric_keys(runs)
    records = [{"run": run_label(r, lang), "algorithm": r["algorithm"], "variant": r["variant"],
                "preset": r["preset"], "seed": r["seed"],
                **{k: float(r["metrics"].get(k, math.nan)) for k in keys},
                "params": float(r["params"]) if r["params"] is not None else math.nan,
                "train seconds": r["train_seconds"] if r["train_seconds"] is not None
                else math.nan} for r in runs]
    return pd.DataFrame(records, index=pd.Index([r["id"] for r in runs], name="run id"))


def compared(runs: list[dict], baseline_id: str,
             lang: str = "en") -> tuple[pd.DataFrame, list[str]]:
    """The comparison table and the names of its numeric columns.

    Rows: the baseline first with its values as they are, then every other run with
    differences from it (run - baseline), so +0.012 under test/acc means 1.2 points
    better. NaN where the run or the baseline lacks the metric.
    """
    values = final_values(runs, lang)
    if baseline_id not in values.index:
        raise KeyError(f"baseline {baseline_id} is not among the runs")
    numeric = [*metric_keys(runs), *EXTRA]
    table = values.copy()
    others = table.index != baseline_id
    table.loc[others, numeric] = values.loc[others, numeric] - values.loc[baseline_id, numeric]
    table.insert(1, "shown as", [i18n.t("compare.value" if i == baseline_id else "compare.delta",
                                        lang)
                                 for i in table.index])
    order = [baseline_id, *[i for i in table.index if i != baseline_id]]
    return table.loc[order], numeric


def comparison_csv(runs: list[dict], baseline_id: str) -> str:
    """The comparison as long CSV: one row per (run, quantity) with its value, the
    baseline's value and the difference, so nothing shown as a delta loses its value."""
    values = final_values(runs)
    table, numeric = compared(runs, baseline_id)
    rows = []
    for run_id in table.index:
        for quantity in numeric:
            value, base = values.at[run_id, quantity], values.at[baseline_id, quantity]
            rows.append({"run_id": run_id, "run": values.at[run_id, "run"],
                         "algorithm": values.at[run_id, "algorithm"],
                         "variant": values.at[run_id, "variant"],
                         "preset": values.at[run_id, "preset"], "seed": values.at[run_id, "seed"],
                         "baseline": run_id == baseline_id, "quantity": quantity,
                         "value": value, "baseline_value": base, "delta": value - base})
    return pd.DataFrame(rows).dropna(subset=["value"]).to_csv(index=False)


def _flat_spec(run: dict) -> dict[str, str]:
    spec = run["spec"]
    flat = {"algorithm": run["algorithm"], "variant": run["variant"], "preset": run["preset"],
            "seed": run["seed"], **spec.get("config", {})}
    return {k: json.dumps(v) if not isinstance(v, str) else v for k, v in flat.items()}


def config_diff(runs: list[dict], lang: str = "en") -> pd.DataFrame:
    """Only the settings that differ: rows = setting, columns = run labels, values as
    text ('—' where a run has no such setting). Empty when all runs share every setting."""
    flats = [_flat_spec(r) for r in runs]
    names = list(dict.fromkeys(k for flat in flats for k in flat))
    differing = [n for n in names if len({flat.get(n, MISSING) for flat in flats}) > 1]
    return pd.DataFrame({run_label(r, lang): [flat.get(n, MISSING) for n in differing]
                         for r, flat in zip(runs, flats)},
                        index=pd.Index(differing, name="setting"))


# ---- histories ---------------------------------------------------------------------------
def histories_frame(runs: list[dict], histories: Mapping[str, list[tuple]],
                    lang: str = "en") -> pd.DataFrame:
    """Store history rows of each run -> one long frame: run_id, run, step, seconds, key,
    value (the `run` column is what engine.plots.curves colours by)."""
    frames = [history_frame(histories[r["id"]], run_label(r, lang)).assign(run_id=r["id"])
              for r in runs]
    columns = ["run_id", "run", "step", "seconds", "key", "value"]
    return pd.concat(frames)[columns] if frames else pd.DataFrame(columns=columns)


def histories_csv(frame: pd.DataFrame, metrics: Iterable[str] | None = None) -> str:
    """The long history frame (optionally only some metric keys) as CSV text."""
    if metrics is not None:
        frame = frame[frame["key"].isin(list(metrics))]
    return frame.to_csv(index=False)


# ---- the selection in the URL ------------------------------------------------------------
# Longest link values read; a longer one is refused with a note, so no link makes the page
# split, look up and echo megabytes (issue 26 item 1).
MAX_RUNS_TEXT = 20_000  # ?runs=: Sweeps links up to 400 run ids of under 40 characters
MAX_LINK_VALUE = 200  # ?metric=, ?x=, ?baseline=: one metric key or one run id


@dataclass(frozen=True)
class Selection:
    """What the Compare page shows; it round-trips through query parameters such as
    ?runs=id1,id2&metric=val/acc&x=step&baseline=id1."""

    runs: tuple[str, ...] = ()
    metric: str = ""
    x: str = "step"
    baseline: str = ""


def encode_selection(selection: Selection) -> dict[str, str]:
    """Selection -> query parameters (empty fields left out)."""
    params = {"runs": ",".join(selection.runs), "metric": selection.metric, "x": selection.x,
              "baseline": selection.baseline if selection.runs else ""}
    return {k: v for k, v in params.items() if v}


def decode_selection(params: Mapping[str, str | list[str]],
                     statuses: Mapping[str, str],
                     lang: str = "en") -> tuple[Selection, list[str], list[str]]:
    """Query parameters -> (selection of finished runs, unknown run ids, notes).

    `statuses` maps every stored run id to its status. Ids not in the store come back as
    unknown; ids of runs that are not finished, a bad x or a baseline outside the
    selection are dropped with a one-line note each, and so is a value longer than its cap.
    """
    notes: list[str] = []

    def one(key: str) -> str:
        value = params.get(key, "")
        text = (value[-1] if value else "") if isinstance(value, list) else str(value)
        most = MAX_RUNS_TEXT if key == "runs" else MAX_LINK_VALUE
        if len(text) > most:  # a hostile link: say so in one line and read nothing of it
            notes.append(i18n.t("error.link_value_long", lang, name=repr(key), most=most))
            return ""
        return text

    asked = [i.strip() for i in one("runs").split(",") if i.strip()]
    asked = list(dict.fromkeys(asked))
    unknown = [i for i in asked if i not in statuses]
    notes += [i18n.t("compare.note_unfinished", lang, run_id=i,
                     status=i18n.optional("status", statuses[i], lang))
              for i in asked if i in statuses and statuses[i] != "done"]
    runs = tuple(i for i in asked if statuses.get(i) == "done")
    x = one("x") or "step"
    if x not in X_AXES:
        notes.append(i18n.t("compare.note_bad_x", lang, x=repr(x)))
        x = "step"
    baseline = one("baseline")
    if baseline and baseline not in runs:
        notes.append(i18n.t("compare.note_bad_baseline", lang, baseline=baseline))
    if baseline not in runs:
        baseline = runs[0] if runs else ""
    return Selection(runs, one("metric"), x, baseline), unknown, notes


def run_address(card: Card, run: dict, siblings: Iterable[dict] = ()) -> dict[str, str]:
    """The page address (query parameters, as a Train press writes them) that shows `run`:
    the preset it was trained at (for a custom run, the one whose defaults it differs
    from least), the settings that differ from that preset, its seed, and, when not all of
    them, the variants of `siblings` trained with the same settings and seed."""
    spec = run["spec"]
    config = spec["config"]

    def differing(preset: str) -> dict:
        defaults = card.default_config(preset)
        return {k: v for k, v in config.items() if k in defaults and v != defaults[k]}

    preset = spec["preset"] if spec["preset"] in card.presets else \
        min(card.presets, key=lambda p: len(differing(p)))
    query = {"preset": preset, **{k: str(v).lower() if isinstance(v, bool) else str(v)
                                  for k, v in differing(preset).items()}}
    if spec["seed"]:
        query["seed"] = str(spec["seed"])
    same = {r["spec"]["variant"] for r in [run, *siblings]
            if r["spec"]["config"] == config and r["spec"]["seed"] == spec["seed"]}
    if same != set(card.variants):
        query["variants"] = ",".join(v for v in card.variants if v in same)
    return query


# ---- the Runs page -----------------------------------------------------------------------
SORTS = {  # label -> (column, ascending)
    "newest first": ("created", False),
    "oldest first": ("created", True),
    "algorithm": ("algorithm", True),
    "status": ("status", True),
    "longest training": ("train seconds", False),
}


RUN_COLUMNS = ["status", "progress", "algorithm", "variant", "preset", "seed", "headline",
               "train seconds", "params", "created", "started", "finished", "error", "metrics",
               "config"]


def _time(seconds: float | None) -> pd.Timestamp:
    return pd.to_datetime(seconds, unit="s", utc=True) if seconds else pd.NaT


def runs_table(runs: list[dict], sort: str = "newest first") -> pd.DataFrame:
    """One row per run (index: run id): spec, status, times, headline, every final metric
    and the config as text, and the first line of any error."""
    records = []
    for r in runs:
        top = headline(r)
        ended = r["finished"] if r["status"] not in LIVE else None
        records.append({
            "status": r["status"],
            "progress": float(r["progress"] or 0.0) if r["status"] in LIVE else None,
            "algorithm": r["algorithm"], "variant": r["variant"], "preset": r["preset"],
            "seed": r["seed"], "headline": f"{top[0]} = {top[1]:.4g}" if top else "",
            "train seconds": r["train_seconds"], "params": r["params"],
            "created": _time(r["created"]), "started": _time(r["started"]),
            "finished": _time(ended), "error": first_line(r["error"]),
            "metrics": ", ".join(f"{k}={v:.4g}" for k, v in sorted(r["metrics"].items())),
            "config": ", ".join(f"{k}={v}" for k, v in r["spec"].get("config", {}).items()),
        })
    table = pd.DataFrame(records, index=pd.Index([r["id"] for r in runs], name="run id"),
                         columns=RUN_COLUMNS)
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}, got {sort!r}")
    column, ascending = SORTS[sort]
    return table.sort_values(column, ascending=ascending, na_position="last", kind="stable")


ACTIONS = {  # action -> the statuses it applies to
    "delete": ("done", "failed", "cancelled", "interrupted"),  # a live run is cancelled first
    "rerun": ("done",),
    "requeue": ("failed", "cancelled", "interrupted"),
    "cancel": LIVE,
    "interrupt": ("running",),  # a run whose worker went silent (another host, a restart)
}
