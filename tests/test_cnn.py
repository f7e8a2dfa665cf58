"""CNN module: model shapes, known parameter counts, the MLP baseline is the DNN page's MLP,
the layer-by-layer feature maps and first-layer filters the page shows."""
from __future__ import annotations

import torch

from engine import registry
from engine.algorithms import cnn, dnn
from engine.algorithms.common import count_params, resolve_precision
from engine.inspect import vision as inspect_vision


def config(**overrides):
    return registry.build_spec("cnn", "modern", "standard", overrides).config


def test_every_variant_maps_images_to_ten_logits():
    x = torch.randn(4, 1, 28, 28)
    for variant in registry.card("cnn").variants:
        assert cnn.build_model(variant, config())(x).shape == (4, 10)


def test_lenet5_has_its_known_parameter_count():
    # conv 6x1x5x5+6, conv 16x6x5x5+16, fc 400x120+120, 120x84+84, 84x10+10
    assert count_params(cnn.build_model("lenet5", config())) == 156 + 2416 + 48120 + 10164 + 850


def test_mlp_baseline_is_the_dnn_pages_mlp():
    ours, theirs = cnn.build_model("mlp", config()), dnn.build_model("mlp", config())
    assert [type(m) for m in ours] == [type(m) for m in theirs]
    assert count_params(ours) == count_params(theirs) == 784 * 256 + 256 + 256 * 256 + 256 + 2570


def test_default_modern_cnn_is_a_stable_feature_network():
    model = cnn.build_model("modern")  # no config: the default Config
    assert model[:-1](torch.randn(2, 1, 28, 28)).shape == (2, 36 * 32)
    assert set(model.state_dict()) == set(cnn.build_model("modern", config()).state_dict())


def test_feature_maps_follow_the_blocks():
    model = cnn.build_model("modern", config(width=8))
    image = torch.randint(0, 256, (28, 28), dtype=torch.uint8).numpy()
    maps = inspect_vision.feature_maps(model, image, "mnist")
    shapes = [tuple(m.shape) for _, m in maps]
    assert shapes == [(8, 28, 28), (8, 14, 14), (16, 14, 14), (16, 7, 7), (32, 7, 7),
                      (32, 3, 3)]
    assert all((m >= 0).all() for _, m in maps)  # after ReLU / max-pool of ReLU
    assert maps[0][0].startswith("conv 1 + ReLU")


def test_first_layer_filters_are_images():
    cfg = config()
    assert cnn.first_layer_filters(cnn.build_model("modern", cfg)).shape == (32, 3, 3)
    assert cnn.first_layer_filters(cnn.build_model("lenet5", cfg)).shape == (6, 5, 5)
    assert cnn.first_layer_filters(cnn.build_model("mlp", cfg)).shape == (32, 28, 28)


def test_precision_resolves_to_a_real_mode():
    assert resolve_precision("fp32") == "fp32" and resolve_precision("bf16") == "bf16"
    assert resolve_precision("auto") in ("bf16", "fp32")


def test_first_layer_panels_start_level_and_are_as_tall():
    """Six 5x5 LeNet filters sat mid-height beside 32 MLP unit weights (issue 27 item 9):
    the panels shown side by side share one height and draw from the top."""
    import numpy as np

    from engine.plots import vision

    panels = vision.first_layers({"mlp": np.random.rand(100, 28, 28),
                                  "lenet5": np.random.rand(6, 5, 5),
                                  "modern": np.random.rand(32, 3, 3)})
    assert len({fig.layout.height for fig in panels}) == 1
    assert all(fig.layout.yaxis.constraintoward == "top" for fig in panels)
    assert panels[0].layout.height == vision.filters(np.random.rand(32, 28, 28), "").layout.height
