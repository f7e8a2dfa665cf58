"""The ten algorithm cards. Each algorithm module `engine/algorithms/<key>.py` declares
one `CARD`; this file fixes the keys and the families and turns requests into RunSpecs."""
from __future__ import annotations

import importlib
import importlib.util
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from engine.core import ConfigError, RunSpec, make_config

KEYS = ("dnn", "cnn", "resnet", "lstm", "word2vec", "transformer", "gan", "diffusion", "gnn", "dqn")
FAMILIES = {
    "Vision": ("dnn", "cnn", "resnet"),
    "Sequences": ("lstm", "transformer", "word2vec"),
    "Generative": ("gan", "diffusion"),
    "Graphs": ("gnn",),
    "Control": ("dqn",),
}
PRESETS = ("quick", "standard", "full")


@dataclass(frozen=True)
class Card:
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

    def default_config(self, preset: str = "standard") -> dict[str, Any]:
        return asdict(make_config(self.config_cls, self.presets.get(preset, {}), algorithm=self.key))


def card(key: str) -> Card:
    if key not in KEYS:
        raise ConfigError(f"unknown algorithm {key!r}; known: {', '.join(KEYS)}")
    try:
        module = importlib.import_module(f"engine.algorithms.{key}")
    except ModuleNotFoundError as error:
        if error.name == f"engine.algorithms.{key}":
            raise ConfigError(f"algorithm {key!r} is not implemented yet") from None
        raise
    return module.CARD


def available() -> list[str]:
    """The keys whose module exists, in the fixed order."""
    return [k for k in KEYS if importlib.util.find_spec(f"engine.algorithms.{k}") is not None]


def family_of(key: str) -> str:
    return next(name for name, keys in FAMILIES.items() if key in keys)


def build_spec(key: str, variant: str, preset: str = "standard",
               overrides: dict[str, Any] | None = None, seed: int = 0) -> RunSpec:
    """Validate a request into a RunSpec; raise ConfigError with one line otherwise."""
    c = card(key)
    if variant not in c.variants:
        raise ConfigError(f"unknown variant {variant!r} for {key}; known: {', '.join(c.variants)}")
    if preset not in c.presets:
        raise ConfigError(f"unknown preset {preset!r}; known: {', '.join(c.presets)}")
    seed = int(seed)
    if not 0 <= seed < 2**31:
        raise ConfigError(f"seed must be between 0 and 2147483647, got {seed}")
    values = {**c.presets[preset], **(overrides or {})}
    config = asdict(make_config(c.config_cls, values, algorithm=key))
    label = preset if not overrides else "custom"
    if overrides and config == c.default_config(preset):
        label = preset
    return RunSpec(algorithm=key, variant=variant, config=config, seed=seed, preset=label)


def run_id(spec: RunSpec) -> str:
    return spec.run_id(card(spec.algorithm).version)
