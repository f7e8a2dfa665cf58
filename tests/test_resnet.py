"""ResNet module: depth counts, the skip path, the per-stage gradient groups."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from engine import registry
from engine.algorithms import resnet
from engine.algorithms.common import count_params
from engine.core import ConfigError
from engine.inspect import vision as inspect_vision


def weighted_layers(model: nn.Module) -> int:
    """3x3 convs plus the linear head: the layers the depth counts (not 1x1 projections)."""
    return sum(isinstance(m, nn.Linear) or isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)
               for m in model.modules())


@pytest.mark.parametrize("depth", [8, 20, 56])
def test_depth_is_the_number_of_weighted_layers(depth):
    for variant in ("plain", "residual"):
        model = resnet.build_model(variant, {"depth": depth, "width": 4})
        assert weighted_layers(model) == depth
        assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_residual_differs_from_plain_only_by_the_two_projections():
    plain = resnet.build_model("plain", {"depth": 20, "width": 16})
    residual = resnet.build_model("residual", {"depth": 20, "width": 16})
    # 1x1 convs 16->32 and 32->64 with their batch norms (weight + bias each)
    assert count_params(residual) - count_params(plain) == 16 * 32 + 64 + 32 * 64 + 128


def test_block_is_the_identity_when_its_residual_branch_is_zeroed():
    torch.manual_seed(0)
    block = resnet.Block(16, 16, stride=1, residual=True)
    last_norm = block.branch[-1]
    nn.init.zeros_(last_norm.weight)
    nn.init.zeros_(last_norm.bias)
    x = torch.relu(torch.randn(8, 16, 7, 7))  # blocks see post-ReLU inputs
    assert torch.equal(block(x), x)
    plain = resnet.Block(16, 16, stride=1, residual=False)
    plain.load_state_dict(block.state_dict())
    assert torch.equal(plain(x), torch.zeros_like(x))  # without the skip nothing gets through


def test_stage_groups_cover_every_parameter_once():
    model = resnet.build_model("residual", {"depth": 14, "width": 4})
    grouped = [p for _, params in resnet.stages(model) for p in params]
    assert len(grouped) == len(list(model.parameters()))
    assert {id(p) for p in grouped} == {id(p) for p in model.parameters()}


def test_depth_must_be_one_of_the_cifar_depths():
    with pytest.raises(ConfigError, match="^depth must be one of 8, 14, 20, 32, 44, 56, got 21$"):
        registry.build_spec("resnet", "residual", "quick", {"depth": 21})


def test_depth_sweep_keeps_runs_that_differ_only_in_depth():
    base = registry.build_spec("resnet", "plain", "quick").config

    def stored(variant, **changes):
        return {"variant": variant, "spec": {"config": {**base, **changes}}}

    runs = [stored("residual", depth=20), stored("plain", depth=20), stored("plain"),
            stored("plain", depth=20, epochs=3)]
    sweep = inspect_vision.depth_sweep(runs, base)
    assert [(r["spec"]["config"]["depth"], r["variant"]) for r in sweep] == [
        (8, "plain"), (20, "plain"), (20, "residual")]
