"""python -m engine bench cnn [--images N] [--skip-quality] [--dataset D]

1. Speed: pytorch/examples' mnist Net (conv32-conv64-fc128, batch 64) trained in our loop
   and in the usual DataLoader loop; images/s of both and the ratio, one row per
   precision with both loops in it: float32 against float32 (the like-for-like headline)
   and bf16 autocast + channels-last against the same in the DataLoader loop (where the
   CPU has bf16; see python -m engine bench peers --rows cnn).
2. Time to quality: the modern CNN's standard preset, trained for real; its MNIST test
   accuracy and training seconds (issue 3: >= 99.0% in under 150 s).
3. Inference ms per image of each variant (float32, batch of 1000 test images).
Wrap it in `flock /tmp/top10-cpu.lock` on a shared machine.
"""
from __future__ import annotations

import argparse

import torch
from torch import nn

from engine import registry, settings
from engine.algorithms import cnn
from engine.algorithms.common import resolve_precision
from engine.bench.vision import (
    dataloader_images_per_second,
    inference_table,
    our_loop,
    ratio_line,
)
from engine.core import PrintReport
from engine.jobs import seed_everything
from engine.terminal import load_line


def examples_net() -> nn.Module:
    """The model of pytorch/examples mnist/main.py. (B, 1, 28, 28) -> (B, 10)."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(),  # (B, 32, 26, 26)
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),  # (B, 64, 12, 12)
        nn.Dropout(0.25), nn.Flatten(),  # (B, 9216)
        nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10))


def precision_rows(dataset: str, batch_size: int, images: int):
    """(precision, our images/s, DataLoader loop images/s) for fp32, then bf16 where the CPU
    has it natively; each pair measured one after the other."""
    precisions = ["fp32"] + (["bf16"] if resolve_precision("auto") == "bf16" else [])
    for precision in precisions:
        baseline = dataloader_images_per_second(examples_net, dataset, batch_size, images,
                                                precision=precision)
        ours = our_loop(examples_net(), dataset, batch_size, images, precision=precision)
        yield precision, ours.metrics["time/images_per_second"], baseline


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine bench cnn")
    parser.add_argument("--images", type=int, default=6400, help="training images per loop")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--dataset", default="mnist", choices=("mnist", "fashion_mnist"))
    parser.add_argument("--skip-quality", action="store_true", help="speed only")
    args = parser.parse_args(argv)
    torch.set_num_threads(settings.threads())
    print(f"pytorch/examples mnist Net, batch {args.batch_size}, {args.images} images per loop, "
          f"{torch.get_num_threads()} threads"
          + "; " + load_line())

    for precision, ours, baseline in precision_rows(args.dataset, args.batch_size, args.images):
        print(ratio_line(f"Net training throughput, {precision} in both loops", ours, baseline))

    if not args.skip_quality:
        spec = registry.build_spec("cnn", "modern", "standard", {"dataset": args.dataset})
        seed_everything(spec.seed)
        result = cnn.run(spec, PrintReport(quiet=True))  # exactly what the page runs
        print(f"time to quality: modern CNN standard preset ({spec.config['epochs']} epochs): "
              f"{args.dataset} test/acc {result.metrics['test/acc']:.4f} after "
              f"{result.train_seconds:.1f} s of training "
              f"({result.metrics['time/images_per_second']:,.0f} images/s)")

    config = registry.card("cnn").default_config("standard")
    models = {v: cnn.build_model(v, config) for v in registry.card("cnn").variants}
    for variant, ms in inference_table(models, args.dataset).items():
        print(f"inference {variant}: {ms:.4f} ms per image")
    print(load_line())
    return 0
