"""DQN engine tests: the TD target on a hand-made batch (DQN and Double DQN, terminal and
non-terminal), the variants wiring it, evaluation and replay helpers, the figures."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from engine import registry
from engine.algorithms import dqn
from engine.core import ConfigError, PrintReport, RunCancelled
from engine.inspect import control as inspect_control
from engine.plots import control

# Three transitions: non-terminal, terminal, non-terminal. Two actions.
REWARD = torch.tensor([1.0, 1.0, 0.5])
TERMINATED = torch.tensor([0.0, 1.0, 0.0])
NEXT_Q_TARGET = torch.tensor([[2.0, 5.0], [10.0, 3.0], [4.0, 1.0]])
NEXT_Q_ONLINE = torch.tensor([[3.0, 1.0], [0.0, 9.0], [2.0, 7.0]])


def test_dqn_target_takes_the_max_of_the_target_network():
    y = dqn.td_target(REWARD, TERMINATED, NEXT_Q_TARGET, gamma=0.9)
    # 1 + 0.9 * max(2, 5); terminal: the reward alone; 0.5 + 0.9 * max(4, 1)
    assert y.tolist() == pytest.approx([5.5, 1.0, 4.1])


def test_double_dqn_target_lets_the_online_network_choose():
    y = dqn.td_target(REWARD, TERMINATED, NEXT_Q_TARGET, gamma=0.9, next_q_online=NEXT_Q_ONLINE)
    # online picks actions 0, 1, 1; the target network values them: 2, (terminal), 1
    assert y.tolist() == pytest.approx([1 + 0.9 * 2, 1.0, 0.5 + 0.9 * 1])


def tiny_config(**changes) -> dict:
    values = {"total_steps": 600, "seeds": 1, "hidden": 16, "learning_starts": 100,
              "batch_size": 16, "eval_every": 300, "eval_episodes": 2, "final_episodes": 2,
              "buffer_size": 1000, **changes}
    return dataclasses.asdict(dqn.Config(**{**dataclasses.asdict(dqn.Config()), **values}))


@pytest.mark.parametrize("variant,double", [("dqn", False), ("double_dqn", True)])
def test_each_variant_builds_its_own_target(variant, double, monkeypatch):
    seen, original = [], dqn.td_target

    def spy(reward, terminated, next_q_target, gamma, next_q_online=None):
        seen.append(next_q_online is not None)
        return original(reward, terminated, next_q_target, gamma, next_q_online)

    monkeypatch.setattr(dqn, "td_target", spy)
    agent = dqn.Agent(tiny_config(), variant, seed=0)
    agent.advance(200)  # 100 random steps fill the buffer, then a step every 4
    assert seen and all(s == double for s in seen)
    assert agent.curve["step"] == [200] and np.isfinite(agent.curve["td_loss"][-1])


def test_only_a_fallen_pole_is_terminal_not_the_time_limit(monkeypatch):
    # A 10-step time limit: random play ends most episodes by truncation, some by a fall.
    make = dqn.gym.make
    monkeypatch.setattr(dqn.gym, "make", lambda env_id, **kw: make(env_id, max_episode_steps=10,
                                                                    **kw))
    agent = dqn.Agent(tiny_config(), "random", seed=1)
    agent.advance(400)
    buffer = agent.buffer
    next_obs, terms = buffer.next_obs[:buffer.stored], buffer.terminated[:buffer.stored]
    fallen = (np.abs(next_obs[:, 0]) > 2.4) | (np.abs(next_obs[:, 2]) > 12 * np.pi / 180)
    assert terms.tolist() == fallen.astype(np.float32).tolist()
    assert 0 < terms.sum() < 40  # about 40 episodes ended, not all of them by a fall


def test_random_policy_is_the_floor_and_is_reproducible():
    envs = [dqn.gym.make("CartPole-v1") for _ in range(20)]
    first = dqn.evaluate(envs, None, seed=5, rng=dqn.random.Random(0))
    again = dqn.evaluate(envs, None, seed=5, rng=dqn.random.Random(0))
    assert first.tolist() == again.tolist()
    assert 10 < first.mean() < 40  # random CartPole lasts about 22 steps


@pytest.mark.slow
def test_same_seed_same_numbers_for_dqn():
    overrides = {k: v for k, v in tiny_config().items() if k != "env"}
    spec = registry.build_spec("dqn", "double_dqn", "quick", overrides, seed=4)
    first = dqn.run(spec, PrintReport(quiet=True))
    second = dqn.run(spec, PrintReport(quiet=True))
    assert first.metrics["eval/return"] == second.metrics["eval/return"]
    assert first.artifacts["curves"][0]["td_loss"] == second.artifacts["curves"][0]["td_loss"]
    # Artifacts are plain types that torch.load(weights_only=True) reads back.
    assert set(first.artifacts["policies"][0]) == set(dqn.build_model("dqn", spec.config)
                                                      .state_dict())


def test_bad_environment_is_rejected_in_one_line():
    with pytest.raises(ConfigError, match="^env must be one of CartPole-v1, Acrobot-v1"):
        registry.build_spec("dqn", "dqn", "quick", {"env": "MountainCar-v0"})


@pytest.mark.parametrize("env_id", list(dqn.ENVS))
def test_replay_and_policy_map(env_id):
    config = tiny_config(env=env_id)
    q = dqn.build_model("dqn", config)
    episode = inspect_control.play_episode(env_id, q, seed=0, render=True, frame_every=5, max_frames=20)
    n_obs, n_actions, _ = dqn.ENVS[env_id]
    assert episode["q_values"].shape == (episode["steps"], n_actions)
    assert episode["observations"].shape == (episode["steps"], n_obs)
    assert episode["return"] == pytest.approx(episode["rewards"].sum())
    assert 1 <= len(episode["frames"]) <= 20 and episode["frames"][0].ndim == 3
    gif = control.episode_gif(episode["frames"], width=120)
    assert gif[:6] == b"GIF89a"

    grid = inspect_control.policy_grid(env_id, q, n=9)
    assert grid["q"].shape == (9, 9, n_actions)
    fig = control.policy_map(grid, dqn.ACTION_NAMES[env_id], "policy")
    assert fig.data[0].z.shape == (9, 9)


def test_stopped_seeds_hold_their_last_evaluation():
    curves = [{"step": [1, 2, 3], "eval_return": [10, 20, 30]},
              {"step": [1], "eval_return": [500]}]
    steps, held = control.seed_matrix(curves, "eval_return", hold_last=True)
    assert steps.tolist() == [1, 2, 3] and held[1].tolist() == [500, 500, 500]
    _, gaps = control.seed_matrix(curves, "eval_return", hold_last=False)
    assert np.isnan(gaps[1, 1:]).all()
    fig = control.seed_bands({"dqn": curves}, "eval_return", "t", "return", hold_last=True,
                             threshold=475)
    assert fig.data[1].y.tolist() == [255, 260, 265]  # the median of the two seeds


@pytest.mark.slow
def test_a_cancel_lands_after_one_agent_chunk():
    class CancelAtFirstProgress(PrintReport):
        calls = 0

        def progress(self, done, total, note=""):
            self.calls += 1
            raise RunCancelled()

    overrides = {k: v for k, v in tiny_config(seeds=3).items() if k != "env"}
    report = CancelAtFirstProgress(quiet=True)
    with pytest.raises(RunCancelled):
        dqn.run(registry.build_spec("dqn", "dqn", "quick", overrides), report)
    assert report.calls == 1 and not report.history  # before the three agents finished a chunk


def test_learning_rate_falls_linearly_to_its_end_share_after_learning_starts():
    cfg = tiny_config(lr=1e-3, lr_end_share=0.2, learning_starts=100, total_steps=600)
    assert dqn.learning_rate(0, cfg) == pytest.approx(1e-3)  # still filling the buffer
    assert dqn.learning_rate(100, cfg) == pytest.approx(1e-3)
    assert dqn.learning_rate(350, cfg) == pytest.approx(1e-3 * 0.6)  # half way: (1 + 0.2) / 2
    assert dqn.learning_rate(600, cfg) == pytest.approx(2e-4)
    assert dqn.learning_rate(900, cfg) == pytest.approx(2e-4)  # past the budget it stays there
    agent = dqn.Agent(cfg, "dqn", seed=0)
    agent.advance(350)
    assert agent.opt.param_groups[0]["lr"] == pytest.approx(dqn.learning_rate(348, cfg))


def test_target_network_follows_by_tau_and_tau_one_is_a_copy():
    agent = dqn.Agent(tiny_config(tau=0.25), "dqn", seed=0)
    with torch.no_grad():
        for p in agent.q.parameters():
            p.fill_(1.0)
        for p in agent.target.parameters():
            p.fill_(0.0)
    agent.update_target()
    assert all(torch.allclose(p, torch.full_like(p, 0.25)) for p in agent.target.parameters())
    agent.cfg = {**agent.cfg, "tau": 1.0}
    agent.update_target()
    assert all(torch.equal(t, q) for t, q in zip(agent.target.parameters(), agent.q.parameters()))


@pytest.mark.parametrize("norm", [0.0, 1e-3])
def test_gradient_steps_are_clipped_to_max_grad_norm(norm):
    agent = dqn.Agent(tiny_config(max_grad_norm=norm), "dqn", seed=0)
    agent.advance(120)  # fills the buffer past batch_size
    agent.learn()
    total = torch.linalg.vector_norm(torch.stack(
        [torch.linalg.vector_norm(p.grad) for p in agent.q.parameters()]))
    assert (total <= norm * 1.001) if norm else (total > 1e-3)
