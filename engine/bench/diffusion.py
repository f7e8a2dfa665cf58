"""python -m engine bench diffusion [--preset P] [--variant V ...] [--seed S] [--set K=V ...]

Trains (or fetches from the store) the diffusion variants at a preset and prints the
shared yardstick for each (FID beside its anchors, confidence, class histogram deviation,
the issue's criteria) and the sampling time per image of each sampler. ddpm_cosine and
ddim_cosine share one trained network. Wrap it in `flock /tmp/top10-cpu.lock`.
"""
from __future__ import annotations

import torch

from engine import settings
from engine.bench.gan import bench


def main(argv: list[str]) -> int:
    torch.set_num_threads(settings.threads())
    return bench("diffusion", argv)
