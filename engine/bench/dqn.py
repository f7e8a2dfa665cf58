"""DQN benchmark: per seed, the environment steps and wall-clock seconds each agent needed to
first reach a greedy evaluation mean of the threshold (475 on CartPole-v1), its final
20-episode return, and the steps/s; against CleanRL's dqn.py with its defaults.

    python -m engine bench dqn [--variant dqn --variant double_dqn] [--preset full]
                               [--set key=value ...] [--seed 0]

Seconds are each agent's own compute time (playing, learning and its evaluations), counted
from its first step; building the environment and networks is not counted.
"""
from __future__ import annotations

import time

import torch

from engine import registry, settings
from engine.algorithms import dqn
from engine.terminal import OneLineParser, parse_sets
from engine.core import PrintReport

# CleanRL's dqn.py with its defaults on this machine, as measured for the issue (#8):
# about 2,800 env steps/s, first 10-episode mean return of 475 after about 218k steps (78 s).
# The target for the median seed: under half of both, i.e. < 100k steps and < 40 s.
CLEANRL = {"steps_per_second": 2800, "steps_to_475": 218_000, "seconds_to_475": 78.0}
TARGET = {"steps": 100_000, "seconds": 40.0}


def main(argv: list[str]) -> int:
    parser = OneLineParser(prog="python -m engine bench dqn", description=__doc__.split("\n")[0])
    parser.add_argument("--variant", action="append", choices=["random", "dqn", "double_dqn"],
                        help="repeatable; default: dqn and double_dqn")
    parser.add_argument("--preset", default="full", choices=registry.PRESETS)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--seed", type=int, default=0, help="base seed (agents: seed, seed+1, ...)")
    args = parser.parse_args(argv)
    torch.set_num_threads(settings.threads())
    overrides = parse_sets(args.set)
    specs = [registry.build_spec("dqn", v, args.preset, overrides, args.seed)
             for v in args.variant or ["dqn", "double_dqn"]]
    config = specs[0].config
    print(f"# {config['env']}, preset {args.preset}, {config['seeds']} seeds, budget "
          f"{config['total_steps']:,} steps/seed, torch threads {torch.get_num_threads()}")
    print(f"# reference CleanRL dqn.py defaults: {CLEANRL['steps_per_second']:,} steps/s, "
          f"475 after {CLEANRL['steps_to_475']:,} steps ({CLEANRL['seconds_to_475']:.0f} s); "
          f"target: < {TARGET['steps']:,} steps and < {TARGET['seconds']:.0f} s in the "
          f"median seed")
    for spec in specs:
        started = time.perf_counter()
        result = dqn.run(spec, PrintReport(quiet=True))
        wall = time.perf_counter() - started
        art = result.artifacts
        summary = dqn.solve_summary(art)
        threshold = art["threshold"]
        print(f"\n{spec.variant}: seed  steps_to_{threshold:g}  seconds_to_{threshold:g}  "
              f"final_return  steps_trained  steps/s")
        for i, seed in enumerate(art["seeds"]):
            steps, seconds = summary["steps"][i], summary["seconds"][i]
            print(f"{spec.variant}: {seed:4d}  "
                  f"{f'{steps:,}' if steps is not None else 'not reached':>13s}  "
                  f"{f'{seconds:.1f}' if seconds is not None else 'not reached':>15s}  "
                  f"{art['final_return'][i]:12.1f}  {art['steps'][i]:13,}  "
                  f"{art['steps'][i] / art['seconds'][i]:7.0f}")
        median_steps, median_seconds = summary["median_steps"], summary["median_seconds"]
        sps = result.metrics["time/steps_per_second"]
        verdict = (median_steps is not None and median_steps < TARGET["steps"]
                   and median_seconds < TARGET["seconds"])
        print(f"{spec.variant}: median seed: "
              f"{f'{median_steps:,.0f} steps' if median_steps is not None else 'not reached'}, "
              f"{f'{median_seconds:.1f} s' if median_seconds is not None else '-'}; "
              f"solved {summary['solved']}/{summary['seeds']} seeds; "
              f"eval/return (median final) {result.metrics['eval/return']:.1f}; "
              f"{sps:,.0f} steps/s ({sps / CLEANRL['steps_per_second']:.2f}x CleanRL); "
              f"{'meets' if verdict else 'misses'} the target; "
              f"bench wall {wall:.1f} s")
    return 0
