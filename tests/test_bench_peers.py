"""`python -m engine bench peers`: figures and ratios, a missing peer is skipped with the
install line, bad rows exit in one line, and the rows' peers run at the smallest settings
(each test skips, saying so, when its peer package is not installed)."""
from __future__ import annotations

import pytest
import torch

from engine import cli
from engine.bench import peers


def test_ratio_favours_ours_above_one_either_way():
    faster = peers.Figure("r", "seconds", "s", ours=10.0, peer=30.0, higher_is_better=False,
                          goal=2.0)
    assert faster.ratio() == pytest.approx(3.0) and faster.verdict().endswith("met")
    slower = peers.Figure("r", "images/s", "images/s", 100.0, 80.0, True, goal=1.5)
    assert slower.ratio() == pytest.approx(1.25) and slower.verdict().endswith("MISSED")
    unreached = peers.Figure("r", "steps", "steps", None, 5000.0, False, goal=2.0)
    assert unreached.ratio() is None and "did not get there" in unreached.verdict()
    assert "not reached" in unreached.line()
    assert peers.Figure("r", "rho", "rho", 0.2, -0.1, True).ratio() is None


def test_a_missing_peer_is_skipped_with_the_install_line(monkeypatch, capsys):
    called = []
    monkeypatch.setitem(peers.ROWS, "dqn", (lambda budget: called.append(budget) or [],
                                            ("no_such_peer_package",), "a peer"))
    assert peers.main(["--rows", "dqn"]) == 0
    out = capsys.readouterr().out
    assert "skipped" in out and "pip install -r requirements-bench.txt" in out
    assert "no_such_peer_package" in out and not called


def test_unknown_rows_exit_2_in_one_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["bench", "peers", "--rows", "dqn,tetris"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "tetris" in err and "word2vec" in err


def test_dqn_row_runs_ours_and_sb3_under_the_same_checks(monkeypatch, capsys):
    pytest.importorskip("stable_baselines3", reason="peer not installed (requirements-bench.txt)")
    tiny = {"seeds": 1, "total_steps": 1200, "eval_every": 600, "eval_episodes": 2,
            "final_episodes": 2}
    monkeypatch.setitem(peers.BUDGETS, "dqn", {"quick": tiny})
    assert peers.main(["--quick", "--rows", "dqn"]) == 0
    out = capsys.readouterr().out
    assert "load average" in out and "threads" in out
    assert out.count("dqn         env steps per second") == 2  # the row, then the table
    assert "sb3 per seed" in out and "ours per seed" in out


def test_hf_gpt2_is_a_char_lm_of_our_size():
    pytest.importorskip("transformers", reason="peer not installed (requirements-bench.txt)")
    from engine.bench.transformer import NANOGPT, HFCharGPT

    model = HFCharGPT(NANOGPT)
    logits = model(torch.zeros(2, NANOGPT["context"], dtype=torch.long))
    assert logits.shape[:2] == (2, NANOGPT["context"]) and logits.shape[2] > 30


def test_diffusers_peer_trains_for_its_seconds_and_samples():
    pytest.importorskip("diffusers", reason="peer not installed (requirements-bench.txt)")
    from engine import registry
    from engine.bench import diffusion

    cfg = registry.build_spec("diffusion", "ddpm_cosine", "quick",
                              {"timesteps": 50, "ddim_steps": 4}).config
    params = sum(p.numel() for p in diffusion.diffusers_unet(8).parameters())
    assert diffusion.peer_width(params) == 8
    ema, steps = diffusion.train_peer_for(0.5, diffusion.diffusers_unet(4), cfg, seed=0)
    assert steps >= 1
    schedulers = diffusion.peer_schedulers(cfg)
    assert len(schedulers["ddim"].timesteps) == 4 and len(schedulers["ddpm"].timesteps) == 50
    images, ms = diffusion.sampled(
        lambda x: diffusion.sample_peer(ema, schedulers["ddim"], x, bf16=False),
        torch.randn(3, 1, 28, 28))
    assert images.shape == (3, 28, 28) and images.dtype == torch.uint8 and ms > 0
