"""LSTM page maths: the hand-written trace reproduces nn.RNN/GRU/LSTM exactly, padding
never changes a sentence's prediction, and the sentiment task runs every variant."""
from __future__ import annotations

import pytest
import torch

from engine import registry
from engine.algorithms import lstm
from engine.core import ConfigError, PrintReport
from engine.inspect import text as inspect_text
from engine.jobs import seed_everything


def char_config(**overrides):
    config = registry.card("lstm").default_config("quick")
    config.update(overrides)
    return config


@pytest.mark.parametrize("variant", ["rnn", "gru", "lstm"])
def test_trace_reproduces_the_torch_module(variant):
    torch.manual_seed(0)
    model = lstm.build_model(variant, char_config(layers=2, hidden=12, embed=6)).eval()
    ids = torch.randint(0, lstm.CHARLM_VOCAB, (9,))
    with torch.no_grad():
        expected, _ = model.rnn(model.embed(ids[None]))  # (1, T, H): top layer's h
    states = inspect_text.trace(model, ids)
    assert states["h"].shape == (2, 9, 12)
    torch.testing.assert_close(states["h"][-1], expected[0], rtol=1e-5, atol=1e-6)
    if variant == "lstm":
        # h = o * tanh(c) at every step and layer, and gates lie in (0, 1)
        torch.testing.assert_close(states["h"], states["output"] * torch.tanh(states["c"]))
        assert 0 < float(states["forget"].min()) and float(states["forget"].max()) < 1


@pytest.mark.parametrize("variant", ["baseline", "rnn", "gru", "lstm"])
def test_padding_does_not_change_a_sentence_prediction(variant):
    config = {**char_config(), "task": "sentiment", "sent_embed": 8, "sent_hidden": 6}
    torch.manual_seed(0)
    model = lstm.build_model(variant, config, vocab=50).eval()
    ids = torch.tensor([[5, 9, 13, 2, 0, 0, 0], [7, 8, 0, 0, 0, 0, 0]])
    lengths = torch.tensor([4, 2])
    with torch.no_grad():
        short = model(ids[:, :4], lengths)
        long = model(torch.cat([ids, torch.zeros(2, 5, dtype=torch.long)], 1), lengths)
        changed = model(ids.masked_fill(ids == 13, 21), lengths)
    torch.testing.assert_close(short, long)
    assert not torch.allclose(short[0], changed[0])  # the words themselves do count


@pytest.mark.slow
def test_sentiment_task_runs_every_variant_name():
    for variant in registry.card("lstm").variants:
        spec = registry.build_spec("lstm", variant, "quick", {"task": "sentiment"})
        assert spec.config["task"] == "sentiment"
    spec = registry.build_spec("lstm", "lstm", "quick",
                               {"task": "sentiment", "sent_embed": 8, "sent_hidden": 8})
    seed_everything(0)
    result = lstm.run(spec, PrintReport(quiet=True))
    assert 0.5 < result.metrics["test/acc"] <= 1.0  # one epoch already beats chance
    assert len(result.artifacts["mistakes"]) == 10


def test_bad_task_is_one_line():
    with pytest.raises(ConfigError, match="^task must be one of charlm, sentiment, got 'poems'$"):
        registry.build_spec("lstm", "lstm", "quick", {"task": "poems"})
