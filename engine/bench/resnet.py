"""python -m engine bench resnet [--preset standard] [--depths 20,56] [--dataset D] [--set k=v]

The article's claim, measured: plain and residual networks of each depth trained with the
same budget (a preset of the ResNet page, through the same run() the page uses). Prints,
per depth and variant, the mean training loss of the last epoch, test accuracy, params,
training seconds and inference ms per image, then the plain-minus-residual loss gap.
Wrap it in `flock /tmp/top10-cpu.lock` on a shared machine.
"""
from __future__ import annotations

import argparse

import torch

from engine import registry, settings
from engine.algorithms import resnet
from engine.core import PrintReport
from engine.jobs import seed_everything
from engine.terminal import load_line, parse_sets


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine bench resnet")
    parser.add_argument("--preset", default="standard", choices=registry.PRESETS)
    parser.add_argument("--depths", default="20,56", help="comma-separated, from "
                        + ", ".join(map(str, resnet.DEPTHS)))
    parser.add_argument("--dataset", default="mnist", choices=("mnist", "fashion_mnist"))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    torch.set_num_threads(settings.threads())
    print(f"ResNet page, {args.preset} preset, {args.dataset}, {torch.get_num_threads()} threads; "
          + load_line())
    loss = {}
    for depth in [int(d) for d in args.depths.split(",")]:
        for variant in ("plain", "residual"):
            overrides = {**parse_sets(args.set), "depth": depth, "dataset": args.dataset}
            spec = registry.build_spec("resnet", variant, args.preset, overrides)
            seed_everything(spec.seed)
            result = resnet.run(spec, PrintReport(quiet=True))
            m = result.metrics
            loss[depth, variant] = m["train/last_epoch_loss"]
            print(f"{variant}-{depth}: last-epoch train loss {m['train/last_epoch_loss']:.4f}, "
                  f"test/acc {m['test/acc']:.4f}, params {result.params:,}, "
                  f"train {result.train_seconds:.1f} s, "
                  f"inference {m['time/infer_ms_per_image']:.3f} ms per image", flush=True)
        print(f"depth {depth}: plain minus residual training loss "
              f"{loss[depth, 'plain'] - loss[depth, 'residual']:+.4f}", flush=True)
    print(load_line())
    return 0
