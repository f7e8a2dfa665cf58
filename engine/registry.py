"""The ten algorithm cards. Each algorithm module `engine/algorithms/<key>.py` declares
one `CARD` (a `engine.core.Card`); this file imports the ten modules, checks them against
the keys and families of engine.names and turns requests into RunSpecs."""
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
from engine.names import FAMILIES, KEYS, PRESETS  # noqa: F401 (registry.PRESETS: for the pages)

CARDS: dict[str, Card] = {module.CARD.key: module.CARD for module in (
    dnn, cnn, resnet, lstm, word2vec, transformer, gan, diffusion, gnn, dqn)}
if tuple(CARDS) != KEYS or any(key not in FAMILIES.get(c.family, ()) for key, c in CARDS.items()):
    raise ImportError("engine.names lists other keys or families than the algorithm modules' cards")


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
