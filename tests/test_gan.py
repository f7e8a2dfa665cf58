"""GAN building blocks: shapes of both variants, the latent interpolation and config errors."""
from __future__ import annotations

import pytest
import torch

from engine import registry
from engine.algorithms import gan
from engine.algorithms.common import update_average
from engine.core import ConfigError, PrintReport, RunSpec


@pytest.mark.parametrize("variant", ["mlp", "dcgan"])
def test_generator_and_discriminator_shapes(variant):
    config = registry.card("gan").default_config("quick")
    generator, discriminator = gan.build_model(variant, config)
    z = torch.randn(4, config["z_dim"])
    images = generator(z)
    assert images.shape == (4, 1, 28, 28)
    assert images.min() >= -1 and images.max() <= 1  # tanh output, like the scaled data
    assert discriminator(images).shape == (4,)
    samples = gan.generate(generator, z)
    assert samples.shape == (4, 28, 28) and samples.dtype == torch.uint8


def test_slerp_ends_at_both_noise_vectors_and_keeps_their_norm():
    g = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(64, generator=g), torch.randn(64, generator=g)
    path = gan.interpolate(z0, z1, 7)
    assert path.shape == (7, 64)
    assert torch.allclose(path[0], z0, atol=1e-5) and torch.allclose(path[-1], z1, atol=1e-5)
    norms = path.norm(dim=1)
    assert norms.min() > 0.8 * min(z0.norm(), z1.norm())  # no shrinking through the middle


def test_bad_gan_settings_give_one_line():
    with pytest.raises(ConfigError, match="^fid_n must be between 100 and 10000, got 5$"):
        registry.build_spec("gan", "dcgan", "quick", {"fid_n": 5})
    with pytest.raises(ConfigError, match="^real_label must be between"):
        registry.build_spec("gan", "mlp", "quick", {"real_label": 1.5})


def test_weight_average_moves_towards_the_model_and_copies_batch_norm_statistics():
    config = registry.card("gan").default_config("quick")
    average, _ = gan.build_model("dcgan", config)
    model, _ = gan.build_model("dcgan", config)
    before = [p.clone() for p in average.parameters()]
    model(torch.randn(8, config["z_dim"]))  # a train-mode pass moves the running statistics
    update_average(average, model, decay=0.75, updates=10**6)
    for p_before, p_avg, p in zip(before, average.parameters(), model.parameters()):
        assert torch.allclose(p_avg, 0.75 * p_before + 0.25 * p, atol=1e-6)
    for b_avg, b in zip(average.buffers(), model.buffers()):
        assert torch.equal(b_avg, b)
    update_average(average, model, decay=0.0, updates=10**6)  # ema = 0: the last weights
    assert all(torch.equal(p_avg, p) for p_avg, p in zip(average.parameters(), model.parameters()))
    fresh, _ = gan.build_model("dcgan", config)
    start = [p.clone() for p in fresh.parameters()]
    update_average(fresh, model, decay=0.999, updates=0)  # first update: d = 1/10, not 0.999
    for p_start, p_avg, p in zip(start, fresh.parameters(), model.parameters()):
        assert torch.allclose(p_avg, 0.1 * p_start + 0.9 * p, atol=1e-6)


@pytest.mark.slow
def test_run_counts_the_weights_of_both_networks(store_dir):
    """The sampling generator is a frozen average; its weights still count."""
    config = registry.card("gan").default_config("quick")
    result = gan.run(RunSpec("gan", "dcgan", config), PrintReport(quiet=True))
    generator, discriminator = gan.build_model("dcgan", config)
    expected = sum(p.numel() for net in (generator, discriminator) for p in net.parameters())
    assert result.params == expected


def test_fid_chart_names_each_anchor_in_the_legend_not_over_the_bars():
    """Anchor labels drawn beside their lines overlapped each other and the bars (issue 27
    item 9): each anchor is a line at its value with a legend entry of its own."""
    from engine.plots import generative

    fig = generative.fid_with_anchors({"dcgan": 132.4, "mlp": 624.1},
                                      {"eval/fid_floor": 52.7, "eval/fid_pixel": 1433.7,
                                       "eval/fid_noise": 1500.2}, lang="zh")
    assert fig.layout.xaxis.type == "log"
    assert not fig.layout.annotations  # nothing written on the plot area
    lines = {shape.name: shape.x0 for shape in fig.layout.shapes}
    assert lines == {"下限：真实对真实（FID 52.7）": 52.7, "逐像素高斯（FID 1433.7）": 1433.7,
                     "高斯噪声（FID 1500.2）": 1500.2}
    assert all(shape.showlegend for shape in fig.layout.shapes)
    assert len({(s.line.color, s.line.dash) for s in fig.layout.shapes}) == 3
    assert fig.layout.legend.orientation == "h" and fig.layout.legend.y < 0  # below the bars


def test_scoring_announces_each_step_before_it_runs(store_dir):
    """The reference alone took ~50 s on a loaded first use: each step gets its own line."""
    from engine.algorithms import yardstick

    notes = []
    images = torch.randint(0, 256, (100, 28, 28), dtype=torch.uint8)
    score = yardstick.evaluate_samples(images, "mnist", None, notes.append)
    assert notes == ["loading the yardstick classifier",
                     "reference: 100 real images and the anchors", "scoring 100 samples"]
    assert score["eval/fid"] > score["eval/fid_floor"]
