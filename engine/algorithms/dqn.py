"""DQN: deep Q-learning on gymnasium's CartPole-v1 (or Acrobot-v1), against a random policy.

Three variants share one loop:
  random      - uniformly random actions, no learning: the floor;
  dqn         - replay buffer, target network, epsilon-greedy, Huber loss (Mnih et al. 2015);
  double_dqn  - the same, but the online network picks the next action and the target
                network values it (van Hasselt et al. 2016), which curbs over-estimation.

A run trains `seeds` independent agents (seeds spec.seed, spec.seed + 1, ...) in lock-step,
`eval_every` environment steps at a time, so the reported curves are medians over seeds at
the same step. After each chunk every agent is evaluated greedily; an agent whose
evaluation mean first reaches the environment's reward threshold (475 on CartPole, -100 on
Acrobot) is "solved" and, with `stop_when_solved`, stops training and keeps that policy.
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

from engine.core import ConfigError, RunResult, setting
from engine.registry import Card

# observation size, number of actions, solved threshold (gymnasium's reward_threshold)
ENVS = {"CartPole-v1": (4, 2, 475.0), "Acrobot-v1": (6, 3, -100.0)}


@dataclass(frozen=True)
class Config:
    env: str = setting("CartPole-v1", "gymnasium environment", choices=tuple(ENVS))
    total_steps: int = setting(100_000, "environment steps per seed (the training budget)",
                               lo=500, hi=1_000_000)
    seeds: int = setting(3, "independent agents per run; the median is the headline",
                         lo=1, hi=10)
    hidden: int = setting(128, "units in each of the two hidden layers of the Q-network",
                          lo=8, hi=1024)
    lr: float = setting(2.5e-3, "Adam learning rate", lo=1e-5, hi=0.1)
    gamma: float = setting(0.99, "discount factor of future rewards", lo=0.5, hi=0.9999)
    batch_size: int = setting(128, "transitions per gradient step", lo=8, hi=1024)
    buffer_size: int = setting(50_000, "replay buffer capacity (transitions)",
                               lo=500, hi=1_000_000)
    learning_starts: int = setting(1_000, "random steps that fill the buffer before learning",
                                   lo=0, hi=100_000)
    train_every: int = setting(4, "environment steps between gradient steps", lo=1, hi=100)
    target_every: int = setting(250, "environment steps between copies of the online network "
                                "into the target network", lo=1, hi=100_000)
    eps_start: float = setting(1.0, "exploration rate at the start", lo=0.0, hi=1.0)
    eps_end: float = setting(0.05, "exploration rate after the decay", lo=0.0, hi=1.0)
    explore_steps: int = setting(10_000, "steps over which epsilon decays linearly",
                                 lo=1, hi=1_000_000)
    eval_every: int = setting(2_000, "environment steps between greedy evaluations (and "
                              "between reported points)", lo=100, hi=100_000)
    eval_episodes: int = setting(10, "greedy episodes per periodic evaluation", lo=1, hi=100)
    final_episodes: int = setting(20, "greedy episodes of the final evaluation", lo=1, hi=200)
    stop_when_solved: bool = setting(True, "stop an agent once its evaluation mean reaches the "
                                     "environment's threshold, keeping that policy")

    def check(self) -> None:
        if self.learning_starts >= self.total_steps:
            raise ConfigError(f"learning_starts ({self.learning_starts}) must be below total_steps "
                              f"({self.total_steps}): the agent would never learn")
        if self.buffer_size < self.batch_size:
            raise ConfigError(f"buffer_size ({self.buffer_size}) must hold at least one batch "
                              f"(batch_size {self.batch_size})")


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


def epsilon(step: int, cfg: dict) -> float:
    fraction = min(1.0, step / cfg["explore_steps"])
    return cfg["eps_start"] + fraction * (cfg["eps_end"] - cfg["eps_start"])


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
        self.np_rng = np.random.default_rng(seed)  # replay sampling
        torch.manual_seed(seed)
        self.q = build_model(variant, cfg)
        if self.q is not None:
            self.target = copy.deepcopy(self.q)
            self.opt = torch.optim.Adam(self.q.parameters(), lr=cfg["lr"], fused=True)
        size = cfg["buffer_size"]
        self.buf_obs = np.zeros((size, n_obs), np.float32)
        self.buf_next = np.zeros((size, n_obs), np.float32)
        self.buf_action = np.zeros(size, np.int64)
        self.buf_reward = np.zeros(size, np.float32)
        self.buf_term = np.zeros(size, np.float32)
        self.stored = 0
        self.step = 0
        self.seconds = 0.0  # this agent's own compute time (training and evaluation)
        self.episode_return = 0.0
        self.recent: list[float] = []  # returns of the last 10 finished episodes
        self.solved_step: int | None = None
        self.solved_seconds: float | None = None
        self.stopped = False
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
        idx = self.np_rng.integers(0, min(self.stored, self.cfg["buffer_size"]),
                                   self.cfg["batch_size"])
        obs = torch.from_numpy(self.buf_obs[idx])  # (B, obs)
        next_obs = torch.from_numpy(self.buf_next[idx])  # (B, obs)
        action = torch.from_numpy(self.buf_action[idx])  # (B,)
        with torch.no_grad():
            online_next = self.q(next_obs) if self.variant == "double_dqn" else None
            y = td_target(torch.from_numpy(self.buf_reward[idx]),
                          torch.from_numpy(self.buf_term[idx]), self.target(next_obs),
                          self.cfg["gamma"], online_next)  # (B,)
        q_taken = self.q(obs).gather(1, action[:, None]).squeeze(1)  # (B,)
        loss = F.smooth_l1_loss(q_taken, y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return float(loss.detach()), float(q_taken.detach().mean())

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
            slot = self.stored % cfg["buffer_size"]
            self.buf_obs[slot], self.buf_next[slot] = self.obs, next_obs
            self.buf_action[slot], self.buf_reward[slot] = action, reward
            self.buf_term[slot] = terminated
            self.stored += 1
            self.episode_return += reward
            self.obs = next_obs
            if terminated or truncated:
                self.recent = [*self.recent[-9:], self.episode_return]
                self.episode_return = 0.0
                self.obs, _ = self.env.reset()
            if not learner or self.step < cfg["learning_starts"]:
                continue
            if self.step % cfg["train_every"] == 0:
                loss, q_mean = self.learn()
                losses.append(loss)
                qs.append(q_mean)
            if self.step % cfg["target_every"] == 0:
                self.target.load_state_dict(self.q.state_dict())
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
        if self.solved_step is None and eval_return >= self.threshold:
            self.solved_step, self.solved_seconds = self.step, self.seconds
            self.stopped = cfg["stop_when_solved"] and learner


def median_of(values: list[float]) -> float:
    finite = [v for v in values if v == v]  # drop NaN (agents with nothing to say yet)
    return float(np.median(finite)) if finite else float("nan")


def run(spec, report) -> RunResult:
    cfg = spec.config
    total, chunk = cfg["total_steps"], cfg["eval_every"]
    agents = [Agent(cfg, spec.variant, spec.seed + k) for k in range(cfg["seeds"])]
    step = 0
    while step < total and not all(a.stopped for a in agents):
        n = min(chunk, total - step)
        for k, agent in enumerate(agents):
            if not agent.stopped:
                agent.advance(n)
            # Between agents too, so a cancel is seen within one agent's chunk.
            report.progress(step + n * (k + 1) / len(agents), total,
                            f"step {step + n:,}/{total:,}, agent {k + 1}/{len(agents)}")
        step += n
        # Medians over seeds at this step. A stopped agent keeps its last evaluation (its
        # policy no longer changes); the training-side numbers come from active agents.
        active = [a for a in agents if a.curve["step"][-1] == step]
        metrics = {"eval/mean_return": median_of([a.curve["eval_return"][-1] for a in agents]),
                   "train/episodic_return": median_of([a.curve["train_return"][-1]
                                                       for a in active]),
                   "train/td_loss": median_of([a.curve["td_loss"][-1] for a in active]),
                   "train/q_mean": median_of([a.curve["q_mean"][-1] for a in active]),
                   "train/epsilon": active[0].curve["epsilon"][-1],
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
    params = sum(p.numel() for p in agents[0].q.parameters()) if agents[0].q is not None else 0
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


# ---- for the page: replay one episode, map the policy ------------------------------------
def load_policy(variant: str, config: dict, state_dict: dict) -> QNetwork | None:
    model = build_model(variant, config)
    if model is not None:
        model.load_state_dict(state_dict)
        model.eval()
    return model


@torch.inference_mode()
def play_episode(env_id: str, q: QNetwork | None, seed: int, render: bool = True,
                 frame_every: int = 1, max_frames: int = 250) -> dict:
    """One greedy episode (random if q is None). Returns observations (T, obs), actions,
    Q-values (T, A) (empty for the random policy), rewards, the return, and up to
    `max_frames` rgb_array frames (every `frame_every`-th step) if render is True."""
    env = gym.make(env_id, render_mode="rgb_array" if render else None)
    rng = random.Random(seed)
    obs, _ = env.reset(seed=seed)
    observations, actions, q_values, rewards, frames = [], [], [], [], []
    done = False
    while not done:
        if render and len(observations) % frame_every == 0 and len(frames) < max_frames:
            frames.append(env.render())
        if q is None:
            action = rng.randrange(env.action_space.n)
        else:
            values = q(torch.from_numpy(obs)[None])[0]  # (A,)
            q_values.append(values.tolist())
            action = int(values.argmax())
        observations.append(obs.tolist())
        actions.append(action)
        obs, reward, terminated, truncated, _ = env.step(action)
        rewards.append(float(reward))
        done = terminated or truncated
    if render and len(frames) < max_frames:
        frames.append(env.render())  # the final state
    env.close()
    return {"observations": np.array(observations), "actions": np.array(actions),
            "q_values": np.array(q_values), "rewards": np.array(rewards),
            "return": float(sum(rewards)), "steps": len(rewards), "frames": frames}


# Grid of the two state components the heatmap varies; the others are held at zero.
GRID = {"CartPole-v1": ("pole angle (rad)", 0.21, "pole angular velocity (rad/s)", 2.5),
        "Acrobot-v1": ("first link angle (rad)", np.pi, "first link angular velocity (rad/s)",
                       4 * np.pi)}


@torch.inference_mode()
def policy_grid(env_id: str, q: QNetwork, n: int = 61) -> dict:
    """Q-values over an n x n grid of (angle, angular velocity), the other state
    components at zero. Returns the axes and q of shape (n velocities, n angles, A)."""
    x_name, x_max, y_name, y_max = GRID[env_id]
    angles = torch.linspace(-x_max, x_max, n)
    velocities = torch.linspace(-y_max, y_max, n)
    vel, ang = torch.meshgrid(velocities, angles, indexing="ij")  # (n, n) each
    if env_id == "CartPole-v1":  # (x, x_dot, theta, theta_dot)
        zero = torch.zeros_like(ang)
        states = torch.stack([zero, zero, ang, vel], -1)  # (n, n, 4)
    else:  # (cos t1, sin t1, cos t2, sin t2, dt1, dt2) with the second link straight
        states = torch.stack([ang.cos(), ang.sin(), torch.ones_like(ang),
                              torch.zeros_like(ang), vel, torch.zeros_like(ang)], -1)
    values = q(states.reshape(n * n, -1)).reshape(n, n, -1)  # (n, n, A)
    return {"angles": angles.numpy(), "velocities": velocities.numpy(), "q": values.numpy(),
            "x_title": x_name, "y_title": y_name}


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
replay breaks the correlation between consecutive steps, and the target network, a copy of
the online network refreshed only every few hundred steps, keeps the regression target from
moving with every update. Double DQN changes one line: the online network chooses the next
action, the target network values it, so noise in the values is not systematically
maximised into over-estimates.

**Strengths.** Learns control from raw experience and a reward signal only, with no model of
the environment; off-policy, so every transition is reused many times; the same recipe
played dozens of Atari games from pixels.

**Weaknesses.** Sample-hungry and sensitive to its settings (learning rate, target period,
exploration schedule); training is unstable, and a policy that balances perfectly can
collapse a few thousand steps later, which is why runs here stop when solved and several
seeds are compared. It needs a small, discrete action set: a max over actions is not
available for continuous controls (that is what actor-critic methods are for).

**Uses.** Game playing, resource scheduling and allocation, recommendation and bidding
policies, robot and traffic-light control in simulation; and as the base of later methods
(Rainbow, distributional and dueling variants).
"""

CARD = Card(
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
    data_field="env",
    metric_labels={"eval/return": "evaluation return (median of seeds)",
                   "solve/steps": "env steps to reach the threshold (median seed)",
                   "solve/seeds": "seeds that reached the threshold"},
)
