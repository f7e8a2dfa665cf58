"""python -m engine bench transformer speed [--target 1.88] [--nanogpt]
   python -m engine bench transformer table [--preset P] [--task T] [--variant V ...]

speed: trains the GPT character model with our loop and our fast settings until the loss
on the *whole* validation text (checked every 50 steps; checking is not counted as
training time) is at or below --target, and prints the training seconds it took.
--nanogpt also trains nanoGPT's README CPU recipe (4 layers, 4 heads, width 128, context
64, batch 12, lr 1e-3, 2000 iterations, no dropout) in our loop, in the same command.
`python -m engine bench peers --rows transformer` adds Hugging Face's GPT-2 with that recipe.
table: like `bench lstm`, one row per variant at a preset (quality figures).
Wrap it in `flock /tmp/top10-cpu.lock`; set TOP10_THREADS=2 to use both cores.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import asdict

import torch
from torch import nn

from engine import settings
from engine.algorithms import transformer
from engine.algorithms.common import resolve_precision
from engine.algorithms.sequence_tasks import train_charlm
from engine.bench.lstm import parser, variant_table
from engine.core import PrintReport, RunResult, RunSpec, make_config
from engine.jobs import seed_everything

# Same model size and context as the nanoGPT recipe; what differs is the optimisation:
# a larger batch (better use of the cores per step) and a 3x higher peak learning rate.
# Ours runs as the card does (precision auto: bf16 autocast where the CPU has it natively);
# nanoGPT's recipe runs in float32, as nanoGPT itself does on a CPU.
FAST = {"layers": 4, "heads": 4, "width": 128, "context": 64, "batch_size": 32, "lr": 3e-3,
        "warmup": 50, "steps": 800, "dropout": 0.0, "weight_decay": 0.1, "precision": "auto"}
NANOGPT = {"layers": 4, "heads": 4, "width": 128, "context": 64, "batch_size": 12, "lr": 1e-3,
           "warmup": 100, "steps": 2000, "dropout": 0.0, "weight_decay": 0.1, "precision": "fp32"}


class EchoEvaluations(PrintReport):
    """Prints every validation check as it happens, so a long run shows its progress."""

    def __call__(self, step: int, metrics: dict[str, float]) -> None:
        super().__call__(step, metrics)
        if "val/loss" in metrics:
            print(f"  step {step}: val loss {metrics['val/loss']:.4f} after "
                  f"{metrics['time/train_seconds']:.1f} s of training", flush=True)


def train(name: str, overrides: dict, target: float, seed: int,
          build: Callable[[dict], nn.Module] | None = None) -> RunResult:
    """Train one char LM (our GPT, or `build(config)`'s model: (B, T) ids -> (B, T, V)
    logits) with our loop until the whole-validation loss reaches `target`; print a line."""
    config = asdict(make_config(transformer.Config, {**overrides, "eval_every": 50}))
    spec = RunSpec("transformer", "learned", config, seed)
    seed_everything(seed)
    model = (build or (lambda c: transformer.build_model("learned", c)))(config)
    cpu, wall = time.process_time(), time.perf_counter()
    result = train_charlm(spec, EchoEvaluations(quiet=True), model, steps=config["steps"],
                          batch_size=config["batch_size"], context=config["context"],
                          lr=config["lr"], weight_decay=config["weight_decay"],
                          warmup=config["warmup"], eval_every=50, eval_windows=0,
                          stop_at=target, precision=config["precision"])
    m = result.metrics
    cores = (time.process_time() - cpu) / (time.perf_counter() - wall)  # < threads: starved
    reached = m["time/seconds_to_target"]
    when = (f"reached val loss <= {target} after {reached:.1f} s of training "
            f"(step {m['steps']:.0f})" if reached == reached else
            f"did NOT reach {target} in {m['steps']:.0f} steps ({result.train_seconds:.1f} s)")
    name = f"{name}, {resolve_precision(config['precision'])}"
    print(f"{name}: {when}; whole-validation loss {m['val/loss']:.4f} nats/char; "
          f"{m['time/ms_per_step']:.1f} ms/step, {m['time/tokens_per_second']:,.0f} tokens/s, "
          f"{result.params:,} params; busy cores {cores:.2f} of {torch.get_num_threads()}",
          flush=True)
    return result


def main(argv: list[str]) -> int:
    if argv[:1] == ["table"]:
        return variant_table("transformer", parser("transformer").parse_args(argv[1:]))
    if argv[:1] == ["speed"]:
        argv = argv[1:]
    p = argparse.ArgumentParser(prog="python -m engine bench transformer speed")
    p.add_argument("--target", type=float, default=1.88)
    p.add_argument("--nanogpt", action="store_true", help="also train the nanoGPT CPU recipe")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)
    torch.set_num_threads(settings.threads())
    print(f"GPT char model on tiny Shakespeare, target {args.target}, "
          f"{torch.get_num_threads()} threads")
    train("ours (batch 32, lr 3e-3)", FAST, args.target, args.seed)
    train("ours (batch 32, lr 3e-3)", {**FAST, "precision": "fp32"}, args.target, args.seed)
    if args.nanogpt:
        train("nanoGPT recipe (batch 12, lr 1e-3)", NANOGPT, args.target, args.seed)
    return 0


class HFCharGPT(nn.Module):
    """Hugging Face transformers' GPT2LMHeadModel sized by our config, as a char LM:
    (B, T) character ids -> (B, T, V) logits, so our loop trains it like our own model."""

    def __init__(self, config: dict):
        super().__init__()
        from transformers import GPT2Config, GPT2LMHeadModel

        from engine.data.text import load_shakespeare

        self.gpt = GPT2LMHeadModel(GPT2Config(
            vocab_size=len(load_shakespeare().chars), n_positions=config["context"],
            n_embd=config["width"], n_layer=config["layers"], n_head=config["heads"],
            resid_pdrop=config["dropout"], embd_pdrop=config["dropout"],
            attn_pdrop=config["dropout"], bos_token_id=None, eos_token_id=None))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.gpt(input_ids=ids).logits
