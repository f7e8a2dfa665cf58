"""DQN benchmark: per seed, the environment steps and wall-clock seconds each agent needed to
be solved (two consecutive greedy evaluation means at the threshold, 475 on CartPole-v1),
its final 20-episode return after the whole budget, and the steps/s. The peer
(stable-baselines3's DQN with rl-baselines3-zoo's CartPole-v1 settings, under the same
greedy checks) runs beside ours in `python -m engine bench peers --rows dqn`.

    python -m engine bench dqn [--variant dqn --variant double_dqn] [--preset full]
                               [--set key=value ...] [--seed 0]

Seconds are each agent's own compute time (playing, learning and its evaluations), counted
from its first step; building the environment and networks is not counted.
"""
from __future__ import annotations

import random
import time

import torch

from engine import registry, settings
from engine.algorithms import dqn
from engine.core import PrintReport
from engine.terminal import OneLineParser, parse_sets

# rl-baselines3-zoo's hyperparams/dqn.yml for CartPole-v1. Its budget is 5e4 steps with
# exploration over the first 16% of them; the peer runs to our budget instead (both train the
# same number of steps) and keeps the zoo's 8,000 exploration steps.
SB3_ZOO_STEPS = 50_000
SB3_ZOO = {"learning_rate": 2.3e-3, "batch_size": 64, "buffer_size": 100_000,
           "learning_starts": 1_000, "gamma": 0.99, "target_update_interval": 10,
           "train_freq": 256, "gradient_steps": 128, "exploration_fraction": 0.16,
           "exploration_final_eps": 0.04, "policy_kwargs": {"net_arch": [256, 256]}}


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
        print(f"{spec.variant}: median seed: "
              f"{f'{median_steps:,.0f} steps' if median_steps is not None else 'not reached'}, "
              f"{f'{median_seconds:.1f} s' if median_seconds is not None else '-'}; "
              f"solved {summary['solved']}/{summary['seeds']} seeds; "
              f"eval/return (median final) {result.metrics['eval/return']:.1f}; "
              f"{sps:,.0f} steps/s; bench wall {wall:.1f} s")
    return 0


def sb3_dqn(cfg: dict, seed: int) -> dict:
    """stable-baselines3's DQN with SB3_ZOO's settings for cfg['total_steps'] steps, checked
    greedily every cfg['eval_every'] steps by our dqn.evaluate (same episode seeds as our
    agent of this seed). Returns what our artifacts hold per seed: solved_step,
    solved_seconds (None if not solved), final_return, steps, seconds (its own compute
    time: learning and the evaluations, as ours)."""
    import gymnasium as gym
    from stable_baselines3 import DQN
    from stable_baselines3.common.callbacks import BaseCallback

    eval_envs = [gym.make(cfg["env"]) for _ in range(cfg["eval_episodes"])]
    threshold = dqn.ENVS[cfg["env"]][2]
    rng = random.Random(seed)
    found = {"curve": [], "solved_step": None, "solved_seconds": None}

    class GreedyChecks(BaseCallback):
        def _on_step(self) -> bool:
            step = self.num_timesteps
            if step % cfg["eval_every"] == 0 or step == cfg["total_steps"]:
                q = self.model.q_net  # (B, obs) -> (B, actions), like our QNetwork
                eval_seed = 10_000 * (seed + 1) + step  # as Agent.advance
                found["curve"].append(float(dqn.evaluate(eval_envs, q, eval_seed, rng).mean()))
                if (found["solved_step"] is None
                        and dqn.solved_index(found["curve"], threshold) is not None):
                    found["solved_step"] = step
                    found["solved_seconds"] = time.perf_counter() - started
            return True

    settings = {**SB3_ZOO, "exploration_fraction": min(
        1.0, SB3_ZOO["exploration_fraction"] * SB3_ZOO_STEPS / cfg["total_steps"])}
    model = DQN("MlpPolicy", gym.make(cfg["env"]), seed=seed, device="cpu", verbose=0,
                **settings)
    started = time.perf_counter()
    model.learn(cfg["total_steps"], callback=GreedyChecks())
    seconds = time.perf_counter() - started
    envs = [gym.make(cfg["env"]) for _ in range(cfg["final_episodes"])]
    final = dqn.evaluate(envs, model.q_net, 7_000_000 + 1_000 * seed, random.Random(seed))
    return {"solved_step": found["solved_step"], "solved_seconds": found["solved_seconds"],
            "final_return": float(final.mean()), "steps": cfg["total_steps"],
            "seconds": seconds, "curve": found["curve"]}
