"""Inspecting finished DQN runs: each seed's restored Q-network, a replayed greedy
episode with its frames and Q-values, the greedy action over a grid of states, and how
the seeds reached the solve threshold."""
from __future__ import annotations

import random

import gymnasium as gym
import numpy as np
import torch

from engine.algorithms import dqn
from engine.algorithms.dqn import ACTION_NAMES, QNetwork, solve_summary  # noqa: F401 (pages)

RenderingUnavailable = gym.error.DependencyNotInstalled  # pygame missing


def restore(run: dict, artifacts: dict) -> list[QNetwork | None]:
    """One greedy Q-network per seed of the run (None for each seed of the random policy)."""
    spec = run["spec"]
    agents = []
    for state_dict in artifacts["policies"]:
        q = dqn.build_model(spec["variant"], spec["config"])
        if q is not None:
            q.load_state_dict(state_dict)
            q.eval()
        agents.append(q)
    return agents


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
