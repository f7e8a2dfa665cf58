"""Inspecting finished GAN and diffusion runs: the restored generator or noise predictor,
new samples from a visitor's noise seed, the class names and schedules the pages label."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from engine.algorithms import diffusion, gan
from engine.data.images import CLASS_NAMES
from engine.metrics import to_uint8

schedule_of = diffusion.schedule_of  # "ddpm_cosine" -> "cosine"


def class_names(dataset: str) -> list[str]:
    return CLASS_NAMES[dataset]


def restore(run: dict, artifacts: dict) -> nn.Module:
    """The network that samples: a GAN's (averaged) generator or a diffusion run's noise
    predictor, rebuilt from the stored weights, in eval mode."""
    spec = run["spec"]
    if run["algorithm"] == "gan":
        model, _ = gan.build_model(spec["variant"], spec["config"])
        model.load_state_dict(artifacts["generator_state"])
    else:
        model = diffusion.build_model(spec["variant"], spec["config"])
        model.load_state_dict(artifacts["model_state"])
    return model.eval()


def gan_samples(generator: nn.Module, config: dict, seed: int, n: int = 16) -> np.ndarray:
    """n new (28, 28) uint8 images from noise seed `seed`."""
    z = torch.randn(n, config["z_dim"], generator=torch.Generator().manual_seed(seed))
    return gan.generate(generator, z).numpy()


def diffusion_samples(model: nn.Module, variant: str, config: dict, seed: int,
                      n: int = 8) -> np.ndarray:
    """n new (28, 28) uint8 images denoised from noise seed `seed` by the variant's sampler."""
    sched = diffusion.make_schedule(schedule_of(variant), config["timesteps"])
    noise = torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))
    x, _ = diffusion.sample(variant, model, sched, noise, config)
    return to_uint8(x).numpy()
