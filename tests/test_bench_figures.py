"""Honest figures: the DQN success rule (one rule for ours and the peer, training to the
budget), the yardstick measures that noise cannot fool (known values), and the WordSim-353
halves."""
from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from engine import metrics, registry, word_eval
from engine.algorithms import dqn
from engine.core import PrintReport


def test_solved_needs_two_checks_in_a_row():
    assert dqn.solved_index([480, 100, 490, 470, 500], 475) is None  # never two in a row
    assert dqn.solved_index([100, 480, 500, 200], 475) == 2  # the second of the pair
    assert dqn.solved_index([475, 475], 475) == 1  # at the threshold counts
    assert dqn.solved_index([500, 100, 500], 475, checks=1) == 0


@pytest.mark.slow  # trains
def test_every_agent_trains_to_the_budget_and_reports_its_final_return(monkeypatch):
    # Every evaluation "reaches" the threshold: solved at the second check, still trained on.
    monkeypatch.setitem(dqn.ENVS, "CartPole-v1", (4, 2, 0.0))
    values = {"total_steps": 900, "seeds": 2, "hidden": 16, "learning_starts": 100,
              "batch_size": 16, "eval_every": 300, "eval_episodes": 2, "final_episodes": 2,
              "buffer_size": 1000}
    spec = registry.build_spec("dqn", "dqn", "quick", values)
    art = dqn.run(spec, PrintReport(quiet=True)).artifacts
    assert art["steps"] == [900, 900]
    assert art["solved_step"] == [600, 600]
    assert all(c["step"] == [300, 600, 900] for c in art["curves"])
    assert len(art["final_return"]) == 2 and all(r > 0 for r in art["final_return"])


def test_precision_and_recall_on_known_points():
    real = torch.tensor([[0.0], [1.0], [2.0], [3.0], [4.0]])  # k=1: every radius is 1
    generated = torch.tensor([[0.5], [10.0]])  # radius 9.5 each
    precision, recall = metrics.precision_recall(real, generated, k=1)
    assert precision == pytest.approx(0.5)  # 0.5 lies in a real ball, 10 in none
    assert recall == pytest.approx(1.0)  # every real point lies within 9.5 of 0.5


def test_noise_far_from_the_data_scores_zero_precision_however_confident():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(300, 8, generator=g)
    assert metrics.precision_recall(real, torch.randn(300, 8, generator=g))[0] > 0.8
    noise = torch.randn(300, 8, generator=g) * 0.01 + 6.0  # one tight clump, off the data
    precision, recall = metrics.precision_recall(real, noise)
    assert precision == 0.0 and recall == 0.0


def test_class_entropy_known_values():
    assert metrics.class_entropy(torch.tensor([0.25, 0.25, 0.25, 0.25])) == pytest.approx(1.0)
    assert metrics.class_entropy(torch.tensor([0.5, 0.5, 0.0, 0.0])) == pytest.approx(0.5)
    assert metrics.class_entropy(torch.tensor([10.0, 0, 0, 0])) == 0.0  # counts work too
    assert not math.copysign(1, metrics.class_entropy(torch.tensor([1.0, 0.0]))) < 0


def test_wordsim_halves_split_the_file_in_two():
    pairs = word_eval.wordsim_pairs()
    words = sorted({w for a, b, _ in pairs for w in (a, b)})
    vectors = torch.randn(len(words), 16, generator=torch.Generator().manual_seed(0))
    scores = word_eval.evaluate(words, vectors)
    _, tune = word_eval.wordsim(words, vectors, "tune")
    _, test = word_eval.wordsim(words, vectors, "test")
    assert tune == test == 1.0  # full coverage of both halves
    assert len(pairs) == 353
    # The halves are different rows: a vocabulary of the odd rows' words covers all of
    # "test" and only part of "tune".
    odd = sorted({w for a, b, _ in pairs[1::2] for w in (a, b)})
    odd_vectors = torch.randn(len(odd), 16, generator=torch.Generator().manual_seed(1))
    assert word_eval.wordsim(odd, odd_vectors, "test")[1] == 1.0
    assert word_eval.wordsim(odd, odd_vectors, "tune")[1] < 0.9
    assert {"eval/wordsim353_tune", "eval/wordsim353_test"} <= scores.keys()
    assert scores["eval/wordsim353_tune"] != scores["eval/wordsim353_test"]


def test_dqn_card_version_marks_the_new_rule():
    assert registry.card("dqn").version >= 2
    assert "stop_when_solved" not in {f.name for f in dataclasses.fields(dqn.Config)}
