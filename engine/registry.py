"""The ten algorithm cards. Each algorithm module `engine/algorithms/<key>.py` declares
one `CARD` (a `engine.core.Card`); this file imports the ten modules, fixes the keys and
the families and turns requests into RunSpecs."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from engine.algorithms import (
    cnn,
    diffusion,
    dnn,
    dqn,
    gan,
    gnn,
    lstm,
    resnet,
    transformer,
    word2vec,
)
from engine.core import Card, ConfigError, RunSpec, make_config

CARDS: dict[str, Card] = {module.CARD.key: module.CARD for module in (
    dnn, cnn, resnet, lstm, word2vec, transformer, gan, diffusion, gnn, dqn)}
KEYS = tuple(CARDS)  # dnn cnn resnet lstm word2vec transformer gan diffusion gnn dqn
FAMILIES = {
    "Vision": ("dnn", "cnn", "resnet"),
    "Sequences": ("lstm", "transformer", "word2vec"),
    "Generative": ("gan", "diffusion"),
    "Graphs": ("gnn",),
    "Control": ("dqn",),
}
PRESETS = ("quick", "standard", "full")


SEED_MAX = 2**31 - 1  # the largest seed a spec takes (torch and numpy accept 32-bit seeds)

def card(key: str) -> Card:
    if key not in CARDS:
        raise ConfigError("error.unknown_algorithm", name=repr(key), known=", ".join(KEYS))
    return CARDS[key]


def family_of(key: str) -> str:
    return next(name for name, keys in FAMILIES.items() if key in keys)


def build_spec(key: str, variant: str, preset: str = "standard",
               overrides: dict[str, Any] | None = None, seed: int = 0) -> RunSpec:
    """Validate a request into a RunSpec; raise ConfigError with one line otherwise."""
    c = card(key)
    if variant not in c.variants:
        raise ConfigError("error.unknown_variant", variant=repr(variant), algorithm=key,
                          known=", ".join(c.variants))
    if preset not in c.presets:
        raise ConfigError("error.unknown_preset", preset=repr(preset), known=", ".join(c.presets))
    seed = int(seed)
    if not 0 <= seed <= SEED_MAX:
        raise ConfigError("error.between", name="seed", lo="0", hi=str(SEED_MAX), value=seed)
    values = {**c.presets[preset], **(overrides or {})}
    config = asdict(make_config(c.config_cls, values, algorithm=key))
    label = preset if not overrides else "custom"
    if overrides and config == c.default_config(preset):
        label = preset
    return RunSpec(algorithm=key, variant=variant, config=config, seed=seed, preset=label)


def run_id(spec: RunSpec) -> str:
    return spec.run_id(card(spec.algorithm).version)
