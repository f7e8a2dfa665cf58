"""python -m engine bench dnn [--images N] [--batch-size B] [--dataset D]

Training throughput of the DNN page's 2-hidden-layer MLP (standard preset) in our loop
against the usual torchvision Dataset + DataLoader + ToTensor/Normalize loop: same model,
same batch size, same optimiser. Prints both and the ratio (issue 2 asks for >= 2x).
Wrap it in `flock /tmp/top10-cpu.lock` on a shared machine.
"""
from __future__ import annotations

import argparse
from dataclasses import asdict

import torch

from engine import settings
from engine.algorithms import dnn
from engine.bench.vision import dataloader_images_per_second, our_loop, ratio_line
from engine.core import make_config
from engine.terminal import load_line


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine bench dnn")
    parser.add_argument("--images", type=int, default=30000, help="training images per loop")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--dataset", default="mnist", choices=("mnist", "fashion_mnist"))
    args = parser.parse_args(argv)
    torch.set_num_threads(settings.threads())
    config = asdict(make_config(dnn.Config, {}))  # the standard preset's MLP

    def make_model():
        torch.manual_seed(0)
        return dnn.build_model("mlp", config)

    print(f"DNN mlp ({config['hidden']}-{config['hidden']}), batch {args.batch_size}, "
          f"{args.images} images per loop, {torch.get_num_threads()} threads"
          + "; " + load_line())
    baseline = dataloader_images_per_second(make_model, args.dataset, args.batch_size, args.images)
    ours = our_loop(make_model(), args.dataset, args.batch_size, args.images)
    print(ratio_line("mlp training throughput", ours.metrics["time/images_per_second"], baseline))
    print(load_line())
    return 0
