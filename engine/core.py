"""The contract between pages, the store, the jobs and the algorithms.

An algorithm module declares a frozen dataclass `Config` whose fields are made with
`setting(...)` (a default, a one-line help text and a range or a list of choices), and
a `run(spec, report) -> RunResult`. Everything here is plain Python: no torch, no Streamlit,
and of engine only the catalogues' lookup (engine.i18n), so an error or a spec can be made
without loading a card.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from engine import i18n  # the catalogues' lookup: it imports nothing from engine


class ConfigError(ValueError):
    """A bad setting: one exact line, fit to show as is. Raised with a catalogue key and
    its fields, e.g. ConfigError("error.between", name="epochs", lo=1, hi=50, value=0);
    str() is the English line (the CLI's and the run store's), text(lang) the same line in
    another language (engine.i18n; the pages show it in the visitor's)."""

    def __init__(self, key: str, **fields):
        self.key, self.fields = key, fields
        super().__init__(self.text("en"))

    def text(self, lang: str) -> str:
        fields = {name: value.text(lang) if isinstance(value, ConfigError) else value
                  for name, value in self.fields.items()}  # a nested reason, same language
        return i18n.t(self.key, lang, **fields)

    def __reduce__(self):  # crosses into the worker process and back with its key
        return _config_error, (self.key, self.fields)


def _config_error(key: str, fields: dict) -> ConfigError:
    return ConfigError(key, **fields)


class RunCancelled(Exception):
    """Raised inside a run when someone asked to cancel it."""


class NonFiniteMetric(RuntimeError):
    """A reported metric became NaN or infinite: the run fails with this reason."""


# A setting's cost direction (setting(cost=...)): what public mode compares with the presets.
COSTS_MORE = 1  # a larger value costs more time or memory (epochs, width, seeds)
COSTS_LESS = -1  # a smaller value does (eval_every: steps between evaluations)
COSTS_MORE_ZERO_ALL = 2  # larger costs more, and 0 means all (train_limit, max_words)


def setting(default: Any, help: str, *, lo: float | None = None, hi: float | None = None,
            choices: tuple | None = None, task: str | None = None, cost: int = 0) -> Any:
    """A Config field with its description and its allowed range (or choices); `task`
    names the value of the config's `task` field it belongs to (None: every task), so the
    form shows only the chosen task's fields. `cost`: one of the COSTS_ directions above, 0
    if the value costs about the same either way (a learning rate); public mode judges a
    changed config by these (engine/public.py)."""
    return field(default=default, metadata={"help": help, "lo": lo, "hi": hi, "choices": choices,
                                            "task": task, "cost": cost})


def config_fields(config_cls) -> list[dataclasses.Field]:
    return list(dataclasses.fields(config_cls))


SHOWN_CHARS = 60  # an echoed value is cut to this many characters: errors stay one short line
# A number as typed: ASCII digits only (no '٣'), no '1_0'; an exponent is allowed (1e-3).
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", re.ASCII)


def shown(value: Any) -> str:
    """repr(value), cut to SHOWN_CHARS characters, for error messages."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def value_text(value: Any) -> str:
    """A setting's value as written in links, tables and axes: 0.001 -> '0.001', 64 -> '64'."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _number(name: str, value: Any, error_key: str) -> float:
    if isinstance(value, str):
        text = value.strip()
        if text.lower().lstrip("+-") in ("inf", "infinity", "nan"):
            raise ConfigError("error.not_finite", name=name, value=shown(value))
        if not NUMBER.fullmatch(text):
            raise ConfigError(error_key, name=name, value=shown(value))
        value = text
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(error_key, name=name, value=shown(value)) from None


def _coerce(name: str, value: Any, kind: type) -> Any:
    """Turn CLI strings and widget values into the field's type, or raise ConfigError."""
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ConfigError("error.not_bool", name=name, value=shown(value))
    if kind is int:
        if isinstance(value, bool):
            raise ConfigError("error.not_int", name=name, value=shown(value))
        number = _number(name, value, "error.not_int")
        if not number.is_integer():
            raise ConfigError("error.not_int", name=name, value=shown(value))
        return int(number)
    if kind is float:
        number = _number(name, value, "error.not_number")
        if not math.isfinite(number):
            raise ConfigError("error.not_finite", name=name, value=shown(value))
        return number
    return str(value)


def make_config(config_cls, values: dict[str, Any] | None = None, *, algorithm: str = ""):
    """Build and validate a Config from defaults plus `values` (strings allowed).

    Raises ConfigError with one line such as "epochs must be between 1 and 50, got 0".
    A Config may define `check(self)`: cross-field rules (raise ConfigError), run last.
    """
    values = dict(values or {})
    known = {f.name: f for f in config_fields(config_cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError("error.unknown_setting_for" if algorithm else "error.unknown_setting",
                          name=shown(unknown[0]), algorithm=algorithm, known=", ".join(known))
    kwargs = {}
    for name, f in known.items():
        kind = type(f.default)
        value = _coerce(name, values.get(name, f.default), kind)
        meta = f.metadata
        if meta.get("choices") is not None and value not in meta["choices"]:
            options = ", ".join(str(c) for c in meta["choices"])
            raise ConfigError("error.not_choice", name=name, options=options, value=shown(value))
        lo, hi = meta.get("lo"), meta.get("hi")
        if lo is not None and hi is not None and not lo <= value <= hi:
            raise ConfigError("error.between", name=name, lo=f"{lo:g}", hi=f"{hi:g}",
                              value=f"{value:g}")
        kwargs[name] = value
    config = config_cls(**kwargs)
    if hasattr(config, "check"):
        config.check()
    return config


@dataclass(frozen=True)
class Card:
    """What an algorithm module declares (its `CARD`): names, texts, variants, presets,
    metrics, its Config class and its `run(spec, report)`."""

    key: str
    title: str
    family: str
    summary: str  # one line: the idea
    explanation: str  # markdown: principle, training, strengths, weaknesses, uses
    variants: dict[str, str]  # variant name -> one-line description
    presets: dict[str, dict[str, Any]]  # "quick" | "standard" | "full" -> config overrides
    metrics: tuple[str, ...]  # final metric keys every run of this card returns
    headline: str  # one of them, e.g. "test/acc"
    headline_label: str  # e.g. "test accuracy"
    higher_is_better: bool
    config_cls: type
    run: Callable
    version: int = 1  # bump when training changes, so stored runs are not reused
    data_field: str = "dataset"  # the config field that names the data
    metric_labels: dict[str, str] = field(default_factory=dict)
    code: tuple = ()  # the functions and classes the page shows as "the code that ran"

    def default_config(self, preset: str = "standard") -> dict[str, Any]:
        return asdict(make_config(self.config_cls, self.presets.get(preset, {}), algorithm=self.key))


@dataclass(frozen=True)
class RunSpec:
    """What to run. Its hash (with the algorithm's code version) is the run id."""

    algorithm: str
    variant: str
    config: dict[str, Any]
    seed: int = 0
    preset: str = "custom"  # a label only: the config fields are what count

    def canonical(self, version: int) -> str:
        body = {"algorithm": self.algorithm, "variant": self.variant, "config": self.config,
                "seed": self.seed, "version": version}
        return json.dumps(body, sort_keys=True, separators=(",", ":"))

    def run_id(self, version: int) -> str:
        digest = hashlib.sha256(self.canonical(version).encode()).hexdigest()
        return f"{self.algorithm}-{self.variant}-{digest[:12]}"

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RunSpec:
        return cls(**json.loads(text))


@dataclass
class RunResult:
    """What a run returns: final metrics (plain floats under namespaced keys), the number
    of trainable parameters, the training time, and artifacts for the page (tensors,
    lists, dicts, strings: anything torch.save writes and torch.load(weights_only) reads)."""

    metrics: dict[str, float]
    params: int
    train_seconds: float
    artifacts: dict[str, Any] = field(default_factory=dict)


class Report(Protocol):
    """What an algorithm gets to talk to the outside world.

    report(step, {"train/loss": 0.3}) records metric history (raises RunCancelled if a
    cancel was asked for, NonFiniteMetric on NaN); report.progress(done, total, note)
    moves the progress bar; report.cancelled is True once a cancel was asked for.
    """

    cancelled: bool

    def __call__(self, step: int, metrics: dict[str, float]) -> None: ...

    def progress(self, done: float, total: float, note: str = "") -> None: ...


class PrintReport:
    """A Report for running an algorithm by hand (python -c, notebooks, benchmarks)."""

    cancelled = False

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.history: list[tuple[int, dict[str, float]]] = []

    def __call__(self, step: int, metrics: dict[str, float]) -> None:
        check_finite(step, metrics)
        self.history.append((step, dict(metrics)))

    def progress(self, done: float, total: float, note: str = "") -> None:
        if not self.quiet:
            print(f"\r{100 * done / max(total, 1e-9):5.1f}% {note}", end="", flush=True)


def check_finite(step: int, metrics: dict[str, float]) -> None:
    for key, value in metrics.items():
        if not math.isfinite(float(value)):
            raise NonFiniteMetric(f"{key} became {value} at step {step}")
