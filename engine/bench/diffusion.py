"""python -m engine bench diffusion [--preset P] [--variant V ...] [--seed S] [--set K=V ...]

Trains (or fetches from the store) the diffusion variants at a preset and prints the
shared yardstick for each (FID beside its anchors, confidence, class histogram deviation,
the issue's criteria) and the sampling time per image of each sampler. ddpm_cosine and
ddim_cosine share one trained network. Wrap it in `flock /tmp/top10-cpu.lock`.
The peer (diffusers' UNet2DModel with its DDPM and DDIM schedulers, trained for as many
seconds as ours) runs beside ours in `python -m engine bench peers --rows diffusion`.
"""
from __future__ import annotations

import math
import time

import torch
import torch.nn.functional as F
from torch import nn

from engine import metrics, settings
from engine.algorithms.common import resolve_precision, update_average
from engine.bench.gan import bench
from engine.data.images import load_images


def main(argv: list[str]) -> int:
    torch.set_num_threads(settings.threads())
    return bench("diffusion", argv)


def diffusers_unet(width: int) -> nn.Module:
    """diffusers' UNet2DModel laid out like ours: 28 -> 14 -> 7 with channels c, 2c, 4c,
    one residual block per level on the way down (two up, its default), attention at 7x7
    and in its middle block. (B, 1, 28, 28), (B,) -> UNet2DOutput with .sample the noise."""
    from diffusers import UNet2DModel

    return UNet2DModel(sample_size=28, in_channels=1, out_channels=1,
                       block_out_channels=(width, 2 * width, 4 * width), layers_per_block=1,
                       down_block_types=("DownBlock2D", "DownBlock2D", "AttnDownBlock2D"),
                       up_block_types=("AttnUpBlock2D", "UpBlock2D", "UpBlock2D"),
                       norm_num_groups=4, attention_head_dim=None)


def peer_width(params: int) -> int:
    """The UNet2DModel first-level width whose parameter count is nearest `params`."""
    count = lambda w: sum(p.numel() for p in diffusers_unet(w).parameters())  # noqa: E731
    return min(range(4, 65, 4), key=lambda w: abs(count(w) - params))


def peer_schedulers(cfg: dict) -> dict:
    """diffusers' DDPM (ancestral, T calls) and DDIM (cfg['ddim_steps'] calls, eta 0)
    schedulers on the cosine alpha-bar schedule (squaredcos_cap_v2: beta capped at 0.999,
    as our make_schedule('cosine', T)), both clipping the predicted x_0 to [-1, 1] as ours."""
    from diffusers import DDIMScheduler, DDPMScheduler

    T = cfg["timesteps"]
    ddpm = DDPMScheduler(num_train_timesteps=T, beta_schedule="squaredcos_cap_v2",
                         clip_sample=True)
    ddim = DDIMScheduler(num_train_timesteps=T, beta_schedule="squaredcos_cap_v2",
                         clip_sample=True)
    ddpm.set_timesteps(T)
    ddim.set_timesteps(cfg["ddim_steps"])
    return {"ddpm": ddpm, "ddim": ddim}


def train_peer_for(seconds: float, model: nn.Module, cfg: dict, seed: int) -> tuple[nn.Module, int]:
    """Train the diffusers U-Net for `seconds` of wall time the way ours trains (the same
    batches from the same generator, the same noise objective through the scheduler's
    add_noise, Adam with warm-up and cosine decay over the time budget, the same precision
    and weight average). Returns (the EMA model, steps done)."""
    import copy

    scheduler = peer_schedulers(cfg)["ddpm"]
    data = load_images(cfg["dataset"]).train_x
    rng = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    ema = copy.deepcopy(model).requires_grad_(False)
    bf16 = resolve_precision(cfg["precision"], torch.device("cpu")) == "bf16"
    warmup = 0.05  # of the budget, as ours warms up over 5% of its steps
    steps, spent = 0, 0.0
    while spent < seconds:
        started = time.perf_counter()
        fraction = spent / seconds
        for group in opt.param_groups:
            group["lr"] = cfg["lr"] * min(1.0, (fraction + 1e-3) / warmup) * 0.5 * (
                1 + math.cos(math.pi * fraction))
        model.train()
        idx = torch.randint(0, len(data), (cfg["batch_size"],), generator=rng)
        x0 = data[idx].float().div(127.5).sub(1).unsqueeze(1)  # (B, 1, 28, 28) in [-1, 1]
        t = torch.randint(0, cfg["timesteps"], (len(x0),), generator=rng)
        noise = torch.randn(x0.shape, generator=rng)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            predicted = model(scheduler.add_noise(x0, noise, t), t).sample.float()
        loss = F.mse_loss(predicted, noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        steps += 1
        update_average(ema, model, cfg["ema"], updates=steps)
        spent += time.perf_counter() - started
    return ema, steps


@torch.no_grad()
def sample_peer(model: nn.Module, scheduler, noise: torch.Tensor, bf16: bool) -> torch.Tensor:
    """x_T (N, 1, 28, 28) -> x_0 through the scheduler's own step(), the usual diffusers loop."""
    model.eval()
    x = noise
    for t in scheduler.timesteps:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            eps = model(x, t).sample.float()
        x = scheduler.step(eps, t, x).prev_sample
    return x


def sampled(fn, noise: torch.Tensor, batch: int = 250) -> tuple[torch.Tensor, float]:
    """Run a sampler over noise in batches: (N, 28, 28) uint8 images, ms per image."""
    started, chunks = time.perf_counter(), []
    for i in range(0, len(noise), batch):
        chunks.append(metrics.to_uint8(fn(noise[i:i + batch])).cpu())
    return torch.cat(chunks), 1000 * (time.perf_counter() - started) / len(noise)
