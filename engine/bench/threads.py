"""How many torch threads a training job should use, measured: the DNN's standard MLP
trained on random MNIST-shaped batches at 1 and at every core, with OpenMP's wait policy
left as is or PASSIVE, alone and beside a competing busy process (as on a shared or
throttled host). Each setting runs in a fresh process, so the environment applies.

    python -m engine bench threads [--seconds 6]

Prints steps/s per row and the slow-down the competitor causes. engine/settings.py takes
its defaults (threads(), worker_environment()) from this measurement.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

from engine import settings

WORKLOAD = """
import time, torch
from engine import registry
from engine.algorithms import dnn
torch.set_num_threads({threads})
model = dnn.build_model("mlp", registry.card("dnn").default_config("standard"))
opt = torch.optim.AdamW(model.parameters())
x, y = torch.randn(128, 1, 28, 28), torch.randint(0, 10, (128,))
steps, started = 0, time.perf_counter()
while time.perf_counter() - started < {seconds}:
    loss = torch.nn.functional.cross_entropy(model(x), y)
    opt.zero_grad(); loss.backward(); opt.step(); steps += 1
print(steps / (time.perf_counter() - started))
"""
BUSY = "while True: pass"


def steps_per_second(threads: int, passive: bool, seconds: float) -> float:
    # not passive: OpenMP's own default (the workload imports torch before engine)
    env = settings.child_env({"OMP_WAIT_POLICY": "PASSIVE" if passive else None})
    out = subprocess.run([sys.executable, "-c", WORKLOAD.format(threads=threads, seconds=seconds)],
                         env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine bench threads")
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    print(f"cores {cores}; load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'threads':>7s} {'wait policy':>11s} {'alone':>9s} {'beside busy':>11s} {'slow-down':>9s}")
    for threads in sorted({1, cores}):
        for passive in (False, True):
            alone = steps_per_second(threads, passive, args.seconds)
            busy = subprocess.Popen([sys.executable, "-c", BUSY])
            try:
                shared = steps_per_second(threads, passive, args.seconds)
            finally:
                busy.kill()
                busy.wait()
            policy = "PASSIVE" if passive else "unset"
            print(f"{threads:7d} {policy:>11s} {alone:8.1f}/s {shared:10.1f}/s "
                  f"{alone / shared:8.1f}x", flush=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0
