"""DQN: deep Q-learning on gymnasium's CartPole-v1 (or Acrobot-v1), against a random policy.

Three variants share one loop:
  random      - uniformly random actions, no learning: the floor;
  dqn         - replay buffer, target network, epsilon-greedy, Huber loss (Mnih et al. 2015);
  double_dqn  - the same, but the online network picks the next action and the target
                network values it (van Hasselt et al. 2016), which curbs over-estimation.

A run trains `seeds` independent agents (seeds spec.seed, spec.seed + 1, ...) in lock-step,
`eval_every` environment steps at a time, so the reported curves are medians over seeds at
the same step. After each chunk every agent is evaluated greedily. An agent is "solved" at
the second of two consecutive evaluations whose means reach the environment's reward
threshold (475 on CartPole, -100 on Acrobot): one lucky evaluation is not enough (see
solved_index, which the peer benchmark applies to stable-baselines3's DQN too). Every agent
trains to the budget; the final greedy return is reported beside the steps to solve.
"""
from __future__ import annotations

import copy
import random
import time
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.algorithms.common import count_params
from engine.core import COSTS_LESS, COSTS_MORE, Card, ConfigError, RunResult, setting

# observation size, number of actions, solved threshold (gymnasium's reward_threshold)
ENVS = {"CartPole-v1": (4, 2, 475.0), "Acrobot-v1": (6, 3, -100.0)}
SOLVE_CHECKS = 2  # consecutive greedy evaluations at or above the threshold that count as solved


@dataclass(frozen=True)
class Config:
    env: str = setting("CartPole-v1", "gymnasium environment", choices=tuple(ENVS))
    total_steps: int = setting(100_000, "environment steps per seed (the training budget)",
                               lo=500, hi=1_000_000, cost=COSTS_MORE)
    seeds: int = setting(3, "independent agents per run; the median is the headline",
                         lo=1, hi=10, cost=COSTS_MORE)
    hidden: int = setting(128, "units in each of the two hidden layers of the Q-network",
                          lo=8, hi=1024, cost=COSTS_MORE)
    lr: float = setting(1e-3, "Adam learning rate at the start", lo=1e-5, hi=0.1)
    lr_end_share: float = setting(0.0, "learning rate at the end of the budget as a share of lr "
                                  "(it falls linearly after learning starts, so late updates "
                                  "are small and a solved policy is not un-learned)",
                                  lo=0.0, hi=1.0)
    max_grad_norm: float = setting(10.0, "clip each gradient step to this norm (0: no clipping)",
                                   lo=0.0, hi=1_000.0)
    tau: float = setting(0.01, "share of the online network blended into the target network "
                         "at each update (1: a hard copy)", lo=0.001, hi=1.0)
    gamma: float = setting(0.99, "discount factor of future rewards", lo=0.5, hi=0.9999)
    batch_size: int = setting(128, "transitions per gradient step", lo=8, hi=1024, cost=COSTS_MORE)
    buffer_size: int = setting(100_000, "replay buffer capacity (transitions)",
                               lo=500, hi=1_000_000, cost=COSTS_MORE)
    learning_starts: int = setting(1_000, "random steps that fill the buffer before learning",
                                   lo=0, hi=100_000)
    train_every: int = setting(4, "environment steps between gradient steps", lo=1, hi=100, cost=COSTS_LESS)
    target_every: int = setting(4, "environment steps between updates of the target network "
                                "(a blend by tau, or a copy at tau = 1)", lo=1, hi=100_000)
    eps_start: float = setting(1.0, "exploration rate at the start", lo=0.0, hi=1.0)
    eps_end: float = setting(0.05, "exploration rate after the decay", lo=0.0, hi=1.0)
    explore_steps: int = setting(10_000, "steps over which epsilon decays linearly",
                                 lo=1, hi=1_000_000)
    eval_every: int = setting(2_000, "environment steps between greedy evaluations (and "
                              "between reported points)", lo=100, hi=100_000, cost=COSTS_LESS)
    eval_episodes: int = setting(10, "greedy episodes per periodic evaluation", lo=1, hi=100, cost=COSTS_MORE)
    final_episodes: int = setting(20, "greedy episodes of the final evaluation", lo=1, hi=200,
                                  cost=COSTS_MORE)

    def check(self) -> None:
        if self.learning_starts >= self.total_steps:
            raise ConfigError("error.dqn_learning_starts", starts=self.learning_starts,
                              total=self.total_steps)
        if self.buffer_size < self.batch_size:
            raise ConfigError("error.dqn_buffer", buffer=self.buffer_size, batch=self.batch_size)


class QNetwork(nn.Module):
    """(B, obs) observations -> (B, actions) action values."""

    def __init__(self, n_obs: int, n_actions: int, hidden: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_obs, hidden), nn.ReLU(),
                                 nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, n_actions))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs)


def build_model(variant: str, config: dict) -> QNetwork | None:
    """The Q-network of a variant (None for the random policy, which has none)."""
    if variant == "random":
        return None
    n_obs, n_actions, _ = ENVS[config["env"]]
    return QNetwork(n_obs, n_actions, config["hidden"])


def td_target(reward: torch.Tensor, terminated: torch.Tensor, next_q_target: torch.Tensor,
              gamma: float, next_q_online: torch.Tensor | None = None) -> torch.Tensor:
    """y = r + gamma * (1 - terminated) * Q_target(s', a*), all (B,) but the (B, A) Q's.

    DQN: a* = argmax_a Q_target(s', a), so the target network both picks and values the
    next action. Double DQN (next_q_online given): a* = argmax_a Q_online(s', a), valued by
    the target network. A time-limit truncation is not termination: it still bootstraps.
    """
    chooser = next_q_target if next_q_online is None else next_q_online
    best = chooser.argmax(1, keepdim=True)  # (B, 1)
    next_value = next_q_target.gather(1, best).squeeze(1)  # (B,)
    return reward + gamma * (1.0 - terminated) * next_value


def solved_index(eval_returns: list[float], threshold: float,
                 checks: int = SOLVE_CHECKS) -> int | None:
    """Index of the evaluation that completes the first run of `checks` consecutive
    evaluation means at or above `threshold` (None if there is none yet)."""
    streak = 0
    for i, value in enumerate(eval_returns):
        streak = streak + 1 if value >= threshold else 0
        if streak == checks:
            return i
    return None


def epsilon(step: int, cfg: dict) -> float:
    fraction = min(1.0, step / cfg["explore_steps"])
    return cfg["eps_start"] + fraction * (cfg["eps_end"] - cfg["eps_start"])


def learning_rate(step: int, cfg: dict) -> float:
    """lr at learning_starts, falling linearly to lr * lr_end_share at total_steps."""
    span = max(1, cfg["total_steps"] - cfg["learning_starts"])
    fraction = min(1.0, max(0.0, (step - cfg["learning_starts"]) / span))
    return cfg["lr"] * (1.0 - fraction * (1.0 - cfg["lr_end_share"]))


@torch.inference_mode()
def evaluate(envs: list[gym.Env], q: QNetwork | None, seed: int,
             rng: random.Random) -> np.ndarray:
    """One episode per env, greedy (or random if q is None), stepped side by side so each
    step is one batched forward pass. Episode i starts from reset(seed=seed + i)."""
    obs = np.stack([env.reset(seed=seed + i)[0] for i, env in enumerate(envs)])  # (N, obs)
    returns = np.zeros(len(envs))
    alive = list(range(len(envs)))
    while alive:
        if q is None:
            actions = [rng.randrange(envs[0].action_space.n) for _ in alive]
        else:
            actions = q(torch.from_numpy(obs[alive])).argmax(1).tolist()
        still = []
        for i, action in zip(alive, actions):
            obs[i], reward, terminated, truncated, _ = envs[i].step(action)
            returns[i] += reward
            if not (terminated or truncated):
                still.append(i)
        alive = still
    return returns


class ReplayBuffer:
    """The last `size` transitions in a ring: observations (size, obs), next observations,
    actions, rewards and terminated flags (size,); sample() draws a batch uniformly."""

    def __init__(self, size: int, n_obs: int, rng: np.random.Generator):
        self.size, self.rng, self.stored = size, rng, 0
        self.obs = np.zeros((size, n_obs), np.float32)
        self.next_obs = np.zeros((size, n_obs), np.float32)
        self.action = np.zeros(size, np.int64)
        self.reward = np.zeros(size, np.float32)
        self.terminated = np.zeros(size, np.float32)

    def add(self, obs, action: int, reward: float, next_obs, terminated: bool) -> None:
        slot = self.stored % self.size
        self.obs[slot], self.next_obs[slot] = obs, next_obs
        self.action[slot], self.reward[slot] = action, reward
        self.terminated[slot] = terminated
        self.stored += 1

    def sample(self, batch: int) -> dict[str, torch.Tensor]:
        """`batch` stored transitions, drawn with replacement, as tensors."""
        idx = self.rng.integers(0, min(self.stored, self.size), batch)
        return {name: torch.from_numpy(getattr(self, name)[idx])
                for name in ("obs", "next_obs", "action", "reward", "terminated")}


class Agent:
    """One seed's environment, networks, optimiser and replay buffer; advance() plays and
    learns for a number of steps. The random variant only plays."""

    def __init__(self, cfg: dict, variant: str, seed: int):
        self.cfg, self.variant, self.seed = cfg, variant, seed
        n_obs, _, self.threshold = ENVS[cfg["env"]]
        self.env = gym.make(cfg["env"])
        self.obs, _ = self.env.reset(seed=seed)
        self.n_actions = self.env.action_space.n
        self.eval_envs = [gym.make(cfg["env"]) for _ in range(cfg["eval_episodes"])]
        self.rng = random.Random(seed)  # exploration and random actions
        torch.manual_seed(seed)
        self.q = build_model(variant, cfg)
        if self.q is not None:
            self.target = copy.deepcopy(self.q)
            self.opt = torch.optim.Adam(self.q.parameters(), lr=cfg["lr"], fused=True)
        self.buffer = ReplayBuffer(cfg["buffer_size"], n_obs, np.random.default_rng(seed))
        self.step = 0
        self.seconds = 0.0  # this agent's own compute time (training and evaluation)
        self.episode_return = 0.0
        self.recent: list[float] = []  # returns of the last 10 finished episodes
        self.solved_step: int | None = None
        self.solved_seconds: float | None = None
        self.curve: dict[str, list[float]] = {
            k: [] for k in ("step", "train_return", "eval_return", "td_loss", "q_mean",
                            "epsilon")}

    def act(self, eps: float) -> int:
        if self.q is None or self.rng.random() < eps:
            return self.rng.randrange(self.n_actions)
        with torch.inference_mode():
            return int(self.q(torch.from_numpy(self.obs)).argmax())

    def learn(self) -> tuple[float, float]:
        """One gradient step on a replay batch; returns (Huber TD loss, mean Q(s, a))."""
        batch = self.buffer.sample(self.cfg["batch_size"])  # obs (B, obs), action (B,), ...
        with torch.no_grad():
            online_next = self.q(batch["next_obs"]) if self.variant == "double_dqn" else None
            y = td_target(batch["reward"], batch["terminated"], self.target(batch["next_obs"]),
                          self.cfg["gamma"], online_next)  # (B,)
        q_taken = self.q(batch["obs"]).gather(1, batch["action"][:, None]).squeeze(1)  # (B,)
        loss = F.smooth_l1_loss(q_taken, y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.cfg["max_grad_norm"] > 0:
            nn.utils.clip_grad_norm_(self.q.parameters(), self.cfg["max_grad_norm"])
        self.opt.step()
        return float(loss.detach()), float(q_taken.detach().mean())

    @torch.no_grad()
    def update_target(self) -> None:
        """target <- tau * online + (1 - tau) * target (tau = 1: a hard copy)."""
        tau = self.cfg["tau"]
        for target, online in zip(self.target.parameters(), self.q.parameters()):
            target.lerp_(online, tau)

    def advance(self, steps: int) -> None:
        """Play (and learn) `steps` environment steps, then evaluate and record a point."""
        started = time.perf_counter()
        cfg, losses, qs = self.cfg, [], []
        learner = self.q is not None
        for _ in range(steps):
            self.step += 1
            eps = epsilon(self.step, cfg) if learner else 1.0
            action = self.act(eps)
            next_obs, reward, terminated, truncated, _ = self.env.step(action)
            self.buffer.add(self.obs, action, reward, next_obs, terminated)
            self.episode_return += reward
            self.obs = next_obs
            if terminated or truncated:
                self.recent = [*self.recent[-9:], self.episode_return]
                self.episode_return = 0.0
                self.obs, _ = self.env.reset()
            if not learner or self.step < cfg["learning_starts"]:
                continue
            if self.step % cfg["train_every"] == 0:
                for group in self.opt.param_groups:
                    group["lr"] = learning_rate(self.step, cfg)
                loss, q_mean = self.learn()
                losses.append(loss)
                qs.append(q_mean)
            if self.step % cfg["target_every"] == 0:
                self.update_target()
        eval_seed = 10_000 * (self.seed + 1) + self.step  # fresh starts at every evaluation
        eval_return = float(evaluate(self.eval_envs, self.q, eval_seed, self.rng).mean())
        self.seconds += time.perf_counter() - started
        nan = float("nan")
        point = {"step": self.step, "eval_return": eval_return,
                 "train_return": float(np.mean(self.recent)) if self.recent else nan,
                 "td_loss": float(np.mean(losses)) if losses else nan,
                 "q_mean": float(np.mean(qs)) if qs else nan,
                 "epsilon": epsilon(self.step, cfg) if learner else 1.0}
        for key, value in point.items():
            self.curve[key].append(value)
        if self.solved_step is None and solved_index(self.curve["eval_return"],
                                                     self.threshold) is not None:
            self.solved_step, self.solved_seconds = self.step, self.seconds


def median_of(values: list[float]) -> float:
    finite = [v for v in values if v == v]  # drop NaN (agents with nothing to say yet)
    return float(np.median(finite)) if finite else float("nan")


def run(spec, report) -> RunResult:
    cfg = spec.config
    total, chunk = cfg["total_steps"], cfg["eval_every"]
    agents = [Agent(cfg, spec.variant, spec.seed + k) for k in range(cfg["seeds"])]
    step = 0
    while step < total:
        n = min(chunk, total - step)
        for k, agent in enumerate(agents):
            agent.advance(n)
            # Between agents too, so a cancel is seen within one agent's chunk.
            report.progress(step + n * (k + 1) / len(agents), total,
                            f"step {step + n:,}/{total:,}, agent {k + 1}/{len(agents)}")
        step += n
        # Medians over seeds at this step.
        metrics = {"eval/mean_return": median_of([a.curve["eval_return"][-1] for a in agents]),
                   "train/episodic_return": median_of([a.curve["train_return"][-1]
                                                       for a in agents]),
                   "train/td_loss": median_of([a.curve["td_loss"][-1] for a in agents]),
                   "train/q_mean": median_of([a.curve["q_mean"][-1] for a in agents]),
                   "train/epsilon": agents[0].curve["epsilon"][-1],
                   "solve/seeds": float(sum(a.solved_step is not None for a in agents))}
        report(step, {k: v for k, v in metrics.items() if v == v})
        report.progress(step, total, f"step {step:,}/{total:,}, eval median "
                        f"{metrics['eval/mean_return']:.0f} over {len(agents)} seeds, "
                        f"{int(metrics['solve/seeds'])} solved")

    final_rng = random.Random(spec.seed)
    finals, final_stds = [], []
    for agent in agents:
        envs = [gym.make(cfg["env"]) for _ in range(cfg["final_episodes"])]
        # Final episodes start from seeds no periodic evaluation used.
        returns = evaluate(envs, agent.q, 7_000_000 + 1_000 * agent.seed, final_rng)
        finals.append(float(returns.mean()))
        final_stds.append(float(returns.std()))

    solve_steps = [a.solved_step if a.solved_step is not None else float("inf") for a in agents]
    solve_seconds = [a.solved_seconds if a.solved_seconds is not None else float("inf")
                     for a in agents]
    seconds = sum(a.seconds for a in agents)
    metrics = {"eval/return": float(np.median(finals)),
               "eval/return_mean": float(np.mean(finals)),
               "eval/return_std": float(np.std(finals)),
               "solve/seeds": float(sum(a.solved_step is not None for a in agents)),
               "time/steps_per_second": sum(a.step for a in agents) / max(seconds, 1e-9)}
    if np.isfinite(np.median(solve_steps)):  # the median seed reached the threshold
        metrics["solve/steps"] = float(np.median(solve_steps))
        metrics["time/solve_seconds"] = float(np.median(solve_seconds))

    artifacts = {
        "env": cfg["env"],
        "threshold": agents[0].threshold,
        "seeds": [a.seed for a in agents],
        "final_return": finals,  # per seed: mean over final_episodes greedy episodes
        "final_return_std": final_stds,
        "solved_step": [a.solved_step if a.solved_step is not None else -1 for a in agents],
        "solved_seconds": [a.solved_seconds if a.solved_seconds is not None else -1.0
                           for a in agents],
        "steps": [a.step for a in agents],
        "seconds": [a.seconds for a in agents],
        "curves": [a.curve for a in agents],  # per seed: one point per evaluation
        "policies": [a.q.state_dict() if a.q is not None else {} for a in agents],
    }
    params = count_params(agents[0].q) if agents[0].q is not None else 0
    return RunResult(metrics, params, seconds, artifacts)


def solve_summary(artifacts: dict) -> dict:
    """How a run's seeds reached the threshold: per-seed steps (None if not reached) and
    the median seed's steps and seconds (None if the median seed did not get there)."""
    steps = [s if s >= 0 else None for s in artifacts["solved_step"]]
    seconds = [s if s >= 0 else None for s in artifacts["solved_seconds"]]
    as_inf = lambda values: [float("inf") if v is None else v for v in values]  # noqa: E731
    median_steps, median_seconds = np.median(as_inf(steps)), np.median(as_inf(seconds))
    return {"solved": sum(s is not None for s in steps), "seeds": len(steps),
            "steps": steps, "seconds": seconds,
            "median_steps": float(median_steps) if np.isfinite(median_steps) else None,
            "median_seconds": float(median_seconds) if np.isfinite(median_seconds) else None}


ACTION_NAMES = {"CartPole-v1": ["push left", "push right"],
                "Acrobot-v1": ["torque -1", "torque 0", "torque +1"]}

EXPLANATION = """
**Principle.** In reinforcement learning an agent acts in an environment and receives
rewards; it wants the actions that maximise the discounted sum of future rewards. The
action-value Q(s, a) is that expected sum when taking action a in state s and acting well
afterwards; knowing Q, the best action is simply the one with the highest value. Classic
Q-learning keeps a table of values, which is hopeless when states are continuous. A deep
Q-network (DQN) replaces the table with a neural network that takes the state (here 4
numbers: cart position and velocity, pole angle and angular velocity) and outputs one value
per action.

**Training.** The agent plays with an epsilon-greedy policy: a random action with
probability epsilon (which decays from 1 to 0.05), the best action otherwise. Every
transition (s, a, r, s', terminated) goes into a replay buffer. Every few steps a random
batch is drawn from it and the network is pulled towards the Bellman target
r + gamma * max_a' Q_target(s', a') with a Huber loss. Two tricks keep this stable: random
replay breaks the correlation between consecutive steps, and the target network, a slowly
following average of the online network (every 4 steps it moves 1 % of the way), keeps the
regression target from moving with every update. Two more keep a solved policy solved: the
learning rate falls linearly to zero over the budget, so late updates are small, and each
gradient step is clipped to norm 10, so one surprising batch cannot undo it. Double DQN
changes one line: the online network chooses the next action, the target network values
it, so noise in the values is not systematically maximised into over-estimates.

**Strengths.** Learns control from raw experience and a reward signal only, with no model of
the environment; off-policy, so every transition is reused many times; the same recipe
played dozens of Atari games from pixels.

**Weaknesses.** Sample-hungry and sensitive to its settings (learning rate, target period,
exploration schedule); training is unstable, and a policy that balances perfectly can
collapse a few thousand steps later, which is why "solved" here needs two evaluations in a
row, every agent trains to the budget with its final return reported, and several seeds
are compared. It needs a small, discrete action set: a max over actions is not
available for continuous controls (that is what actor-critic methods are for).

**Uses.** Game playing, resource scheduling and allocation, recommendation and bidding
policies, robot and traffic-light control in simulation; and as the base of later methods
(Rainbow, distributional and dueling variants).
"""

CARD = Card(
    code=(td_target, Agent.learn),
    key="dqn",
    title="DQN (deep Q-network)",
    family="Control",
    summary="A neural network learns the value of each action from replayed experience, "
            "and the agent acts by picking the highest.",
    explanation=EXPLANATION,
    variants={
        "random": "uniformly random actions, no learning (the floor)",
        "dqn": "DQN: replay buffer, target network, epsilon-greedy, Huber loss",
        "double_dqn": "Double DQN: the online network picks the next action, the target "
                      "network values it",
    },
    presets={
        "quick": {"total_steps": 3_000, "seeds": 2, "hidden": 64, "learning_starts": 500,
                  "explore_steps": 1_500, "eval_every": 1_000, "eval_episodes": 5,
                  "final_episodes": 5},
        "standard": {},
        "full": {"seeds": 5},
    },
    metrics=("eval/return", "eval/return_mean", "eval/return_std", "solve/seeds",
             "time/steps_per_second"),
    headline="eval/return",
    headline_label="evaluation return (median over seeds)",
    higher_is_better=True,
    config_cls=Config,
    run=run,
    version=3,  # v2: solved = two consecutive checks >= threshold; every agent trains to the budget
    # v3: lr 1e-3 decaying linearly to 0, gradients clipped to norm 10, a Polyak target
    # (tau 0.01 every 4 steps), 100k buffer: at v2 most seeds solved and then forgot
    data_field="env",
    metric_labels={"eval/return": "evaluation return (median of seeds)",
                   "solve/steps": "env steps to reach the threshold (median seed)",
                   "solve/seeds": "seeds that reached the threshold"},
)
