"""python -m engine bench gan [--preset P] [--variant V ...] [--seed S] [--set K=V ...]
                              [--baseline-iters N]

Trains (or fetches from the store) the GAN variants at a preset and prints the shared
yardstick for each: FID (mean, std and worst over the preset's seeds) beside its anchors,
precision and recall beside real-vs-real, the class entropy, mean confidence and the class
histogram's largest deviation from 10% (worst seed), and
the issue's three criteria. With --baseline-iters N it also times N iterations of a
plain DCGAN at 64x64 with pytorch/examples' defaults (nz 100, ngf = ndf = 64, batch 64,
MNIST upscaled), the reference the issue quotes. Wrap it in `flock /tmp/top10-cpu.lock`.
The diffusion benchmark reuses `bench` below.
"""
from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from torch import nn

from engine import registry, settings
from engine.jobs import InlineExecutor, JobManager
from engine.store import Store
from engine.terminal import Progress, parse_sets

CONFIDENCE, HIST_DEV, FID_FRACTION = 0.9, 0.05, 0.1  # the figures


def criteria(m: dict) -> dict[str, bool]:
    """The issue's pass/fail figures, on the worst seed where a run has several."""
    return {"conf>=0.9": m["eval/confidence_worst"] >= CONFIDENCE,
            "hist<=5pp": m["eval/hist_max_dev_worst"] <= HIST_DEV,
            "fid<pixel/10": m["eval/fid_worst"] < FID_FRACTION * m["eval/fid_pixel"]}


def bench(key: str, argv: list[str]) -> int:
    card = registry.card(key)
    parser = argparse.ArgumentParser(prog=f"python -m engine bench {key}")
    parser.add_argument("--preset", default="full", choices=registry.PRESETS)
    parser.add_argument("--variant", action="append", choices=list(card.variants))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    if key == "gan":
        parser.add_argument("--baseline-iters", type=int, default=0)
    args = parser.parse_args(argv)
    specs = [registry.build_spec(key, v, args.preset, parse_sets(args.set), args.seed)
             for v in args.variant or card.variants]
    store = Store(settings.store_dir())
    manager = JobManager(store, InlineExecutor(store))
    print(f"{key} bench, preset {args.preset}, {settings.threads()} threads")
    for spec in specs:
        progress = Progress(f"{key}/{spec.variant}")
        submission = manager.run_here(spec, echo=progress)
        progress.close()
        run = store.get(submission.run_id)
        if run["status"] != "done":
            print(f"{spec.variant}: {run['status']}: {(run['error'] or '').splitlines()[0]}")
            continue
        m, c = run["metrics"], spec.config
        checks = criteria(m)
        print(f"{spec.variant:12s} seeds {c['seeds']} N {c['fid_n']}: "
              f"FID {m['eval/fid']:.2f} (std {m['eval/fid_std']:.2f}, worst "
              f"{m['eval/fid_worst']:.2f}) | floor {m['eval/fid_floor']:.2f} pixel-Gauss "
              f"{m['eval/fid_pixel']:.1f} noise {m['eval/fid_noise']:.1f} | precision "
              f"{m['eval/precision']:.3f} recall {m['eval/recall']:.3f} (real vs real "
              f"{m['eval/precision_floor']:.3f} / {m['eval/recall_floor']:.3f}) | class entropy "
              f"{m['eval/class_entropy']:.3f} | conf "
              f"{m['eval/confidence']:.3f} (worst {m['eval/confidence_worst']:.3f}) | hist dev "
              f"{m['eval/hist_max_dev']:.3f} (worst {m['eval/hist_max_dev_worst']:.3f}) | "
              f"classifier acc {m['feature/test_acc']:.4f} | train {run['train_seconds']:.0f}s "
              f"| sample {m['time/sample_ms_per_image']:.2f} ms/img | params {run['params']:,} | "
              + " ".join(f"{name} {'PASS' if ok else 'FAIL'}" for name, ok in checks.items())
              + ("  (cached)" if submission.cached else ""))
    if key == "gan" and args.baseline_iters:
        print(f"pytorch/examples-style DCGAN, 64x64, batch 64: "
              f"{reference_seconds_per_iteration(args.baseline_iters):.2f} s per iteration")
    return 0


def reference_seconds_per_iteration(iterations: int) -> float:
    """Seconds per (D step + G step) of the classic 64x64 DCGAN: nz 100, ngf = ndf = 64,
    four transposed convs up from 4x4, four strided convs down, batch 64, Adam 2e-4."""
    from engine.data.images import load_images

    torch.manual_seed(0)
    nz, f = 100, 64
    up = [nn.ConvTranspose2d(nz, 8 * f, 4, 1, 0, bias=False), nn.BatchNorm2d(8 * f), nn.ReLU()]
    for c in (8 * f, 4 * f, 2 * f):  # 4 -> 8 -> 16 -> 32
        up += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c // 2),
               nn.ReLU()]
    generator = nn.Sequential(*up, nn.ConvTranspose2d(f, 1, 4, 2, 1, bias=False), nn.Tanh())
    down = [nn.Conv2d(1, f, 4, 2, 1, bias=False), nn.LeakyReLU(0.2)]
    for c in (f, 2 * f, 4 * f):  # 32 -> 16 -> 8 -> 4
        down += [nn.Conv2d(c, 2 * c, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * c),
                 nn.LeakyReLU(0.2)]
    discriminator = nn.Sequential(*down, nn.Conv2d(8 * f, 1, 4, 1, 0, bias=False), nn.Flatten())
    opt_g = torch.optim.Adam(generator.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), 2e-4, betas=(0.5, 0.999))
    images = load_images("mnist").train_x[:64 * (iterations + 1)].float().div(127.5).sub(1)
    images = F.interpolate(images.unsqueeze(1), size=64, mode="bilinear")  # (N, 1, 64, 64)
    bce = nn.BCEWithLogitsLoss()
    started = None
    for i in range(iterations + 1):  # the first iteration is a warm-up
        if i == 1:
            started = time.perf_counter()
        real = images[64 * i:64 * (i + 1)]
        fake = generator(torch.randn(64, nz, 1, 1))
        loss_d = bce(discriminator(real), torch.ones(64, 1)) + bce(
            discriminator(fake.detach()), torch.zeros(64, 1))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = bce(discriminator(fake), torch.ones(64, 1))
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    return (time.perf_counter() - started) / max(iterations, 1)


def main(argv: list[str]) -> int:
    torch.set_num_threads(settings.threads())
    return bench("gan", argv)
