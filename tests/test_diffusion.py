"""Known values for the diffusion maths: the schedules, q(x_t | x_0), and both samplers
recovering x_0 exactly when handed the true noise."""
from __future__ import annotations

import math
import time

import pytest
import torch

from engine import registry
from engine.algorithms import diffusion


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_alpha_bar_falls_monotonically_from_one_to_noise(kind):
    sched = diffusion.make_schedule(kind, 1000)
    abar = sched["alpha_bar"]
    assert abar.shape == (1000,)
    assert (abar[1:] < abar[:-1]).all()
    assert 0.99 < abar[0] < 1 and abar[-1] < 1e-3
    assert torch.allclose(abar, torch.cumprod(1 - sched["betas"], 0))


def test_schedule_known_values():
    linear = diffusion.make_schedule("linear", 1000)
    assert linear["betas"][0].item() == pytest.approx(1e-4)
    assert linear["betas"][-1].item() == pytest.approx(0.02)
    cosine = diffusion.make_schedule("cosine", 1000)
    f = lambda t: math.cos((t / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
    assert cosine["alpha_bar"][499].item() == pytest.approx(f(500) / f(0), rel=1e-5)
    # 200 linear steps scaled by 1000/T end about as noisy as 1000 unscaled ones.
    assert diffusion.make_schedule("linear", 200)["alpha_bar"][-1] < 1e-3


def test_q_sample_moments_on_a_constant_image():
    sched = diffusion.make_schedule("linear", 100)
    x0 = torch.full((20000, 1, 28, 28), 0.6)
    t = torch.full((20000,), 30)
    xt = diffusion.q_sample(x0, t, torch.randn(x0.shape, generator=torch.Generator().manual_seed(0)),
                            sched["alpha_bar"])
    a = sched["alpha_bar"][30].item()
    assert xt.mean().item() == pytest.approx(math.sqrt(a) * 0.6, abs=2e-3)
    assert xt.var().item() == pytest.approx(1 - a, rel=1e-2)


@pytest.mark.parametrize("sampler", ["ancestral", "ddim"])
def test_samplers_recover_x0_from_the_true_noise(sampler):
    """With an oracle that returns the exact noise in x_t, both samplers end at x_0."""
    sched = diffusion.make_schedule("cosine", 50)
    abar = sched["alpha_bar"]
    x0 = torch.rand(3, 1, 28, 28) * 2 - 1

    def oracle(x, t):
        a = abar[t].view(-1, 1, 1, 1)
        return (x - a.sqrt() * x0) / (1 - a).sqrt()

    oracle.eval = lambda: None
    noise = torch.randn(3, 1, 28, 28)
    if sampler == "ddim":
        out, trail = diffusion.ddim_sample(oracle, sched, noise, steps=10, keep=4)
    else:
        out, trail = diffusion.ancestral_sample(oracle, sched, noise, keep=4)
    assert torch.allclose(out, x0, atol=1e-4)
    assert len(trail) == 4 and torch.equal(trail[0], noise[0, 0])


def test_unet_keeps_the_image_shape_and_samplers_share_the_cosine_network(store_dir):
    config = registry.card("diffusion").default_config("quick")
    model = diffusion.build_model("ddpm_linear", config)
    x = torch.randn(2, 1, 28, 28)
    assert model(x, torch.tensor([0, 9])).shape == x.shape
    path = diffusion.weights_path
    assert path("ddpm_cosine", config, 0) == path("ddim_cosine", {**config, "ddim_steps": 7}, 0)
    assert path("ddpm_cosine", config, 0) != path("ddpm_linear", config, 0)
    assert path("ddpm_cosine", config, 0) != path("ddpm_cosine", config, 1)


def test_a_shared_network_is_trained_by_one_run_while_the_other_waits(tmp_path):
    """Two jobs at once (DDPM and DDIM on the cosine schedule share one network): the
    second waits on the lock, saying so, and then finds the first one's file."""
    import threading

    from engine.algorithms.common import trained_once

    path = tmp_path / "net.pt"
    holding, events = threading.Event(), []

    def first():
        with trained_once(path):
            holding.set()
            time.sleep(0.6)
            path.write_text("trained")
            events.append("first saved")

    thread = threading.Thread(target=first)
    thread.start()
    holding.wait(5)
    with trained_once(path, waiting=lambda: events.append("waiting"), poll_seconds=0.1):
        events.append(f"second found {path.exists()}")
    thread.join(5)
    assert "waiting" in events
    assert events.index("first saved") < events.index("second found True")
