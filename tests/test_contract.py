"""The contract every registered algorithm keeps: its quick preset finishes for every
variant, returns the declared metrics as finite numbers, the same seed gives the same
numbers, and a bad config is rejected with one clear line."""
from __future__ import annotations

import dataclasses
import math

import pytest

from engine import registry
from engine.core import ConfigError, PrintReport
from engine.jobs import InlineExecutor, JobManager, seed_everything

KEYS = registry.KEYS


def variant_cases():
    return [(k, v) for k in KEYS for v in registry.card(k).variants]


@pytest.mark.slow
@pytest.mark.parametrize("key,variant", variant_cases())
def test_quick_preset_finishes_with_declared_metrics(key, variant, store):
    card = registry.card(key)
    manager = JobManager(store, InlineExecutor(store))
    submission = manager.submit(registry.build_spec(key, variant, "quick"))
    run = store.get(submission.run_id)
    assert run["status"] == "done", run["error"]
    missing = set(card.metrics) - set(run["metrics"])
    assert not missing, f"{key}/{variant} did not return {sorted(missing)}"
    assert card.headline in card.metrics
    for name, value in run["metrics"].items():
        assert math.isfinite(value), f"{name} = {value}"
    assert run["params"] >= 0 and run["train_seconds"] > 0
    assert store.history(submission.run_id), "no metric history was reported"
    artifacts = store.load_artifacts(submission.run_id)  # raises on a missing or bad file
    assert artifacts and set(artifacts) == set(run["artifacts"]), "every artifact loads"
    again = manager.submit(registry.build_spec(key, variant, "quick"))
    assert again.cached and again.run_id == submission.run_id


@pytest.mark.slow
@pytest.mark.parametrize("key", KEYS)
def test_same_seed_same_numbers(key, store_dir):
    card = registry.card(key)
    spec = registry.build_spec(key, next(iter(card.variants)), "quick", seed=3)

    def final_metrics():
        seed_everything(spec.seed)
        metrics = card.run(spec, PrintReport(quiet=True)).metrics
        return {k: v for k, v in metrics.items() if not k.startswith("time/")}

    first, second = final_metrics(), final_metrics()
    assert first.keys() == second.keys()
    for name in first:
        assert first[name] == pytest.approx(second[name], rel=1e-5, abs=1e-6), name


@pytest.mark.parametrize("key", KEYS)
def test_bad_config_is_rejected_with_one_line(key):
    card = registry.card(key)
    ranged = next(f for f in dataclasses.fields(card.config_cls)
                  if f.metadata.get("hi") is not None)
    too_big = ranged.metadata["hi"] * 10 + 1
    with pytest.raises(ConfigError, match=f"^{ranged.name} must be between") as info:
        registry.build_spec(key, next(iter(card.variants)), "quick", {ranged.name: too_big})
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="unknown setting 'no_such_setting'"):
        registry.build_spec(key, next(iter(card.variants)), "quick", {"no_such_setting": 1})
    with pytest.raises(ConfigError, match="unknown variant"):
        registry.build_spec(key, "no_such_variant", "quick")


def test_all_ten_keys_are_fixed():
    assert registry.KEYS == ("dnn", "cnn", "resnet", "lstm", "word2vec", "transformer", "gan",
                             "diffusion", "gnn", "dqn")
    for key in KEYS:
        card = registry.card(key)
        assert card.key == key and card.family == registry.family_of(key)
        assert set(registry.PRESETS) <= set(card.presets)
