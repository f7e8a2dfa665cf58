"""Transformer maths: the causal mask, the attention maps, sinusoidal codes, padding in
the encoder, greedy generation and the learning-rate schedule."""
from __future__ import annotations

import math

import pytest
import torch

from engine import registry
from engine.algorithms import transformer
from engine.algorithms.sequence_tasks import generate, warmup_cosine
from engine.core import ConfigError
from engine.data.text import load_shakespeare


def gpt(variant="learned", **overrides):
    config = registry.card("transformer").default_config("quick")
    config.update(overrides)
    torch.manual_seed(0)
    return transformer.build_model(variant, config).eval()


@pytest.mark.parametrize("variant", ["learned", "sinusoidal"])
def test_causal_mask_blocks_the_future(variant):
    model = gpt(variant)
    ids = torch.randint(0, 65, (1, 20))
    later = ids.clone()
    later[0, 12] = (later[0, 12] + 1) % 65
    with torch.no_grad():
        a, b = model(ids), model(later)
    torch.testing.assert_close(a[0, :12], b[0, :12])  # positions before 12 cannot see it
    assert not torch.allclose(a[0, 12:], b[0, 12:])  # from 12 on it matters


def test_attention_maps_match_the_fast_path():
    model = gpt(layers=2, heads=4, width=32)
    ids = torch.randint(0, 65, (1, 10))
    maps = model.attention(ids)
    assert maps.shape == (2, 4, 10, 10)
    torch.testing.assert_close(maps.sum(-1), torch.ones(2, 4, 10))
    assert float(maps.triu(1).abs().max()) == 0.0
    with torch.no_grad():
        x_slow, _, _ = model.features(ids, want_weights=True)
        x_fast, _, _ = model.features(ids)
    torch.testing.assert_close(x_slow, x_fast, rtol=1e-4, atol=1e-5)


def test_sinusoidal_codes_known_values():
    table = transformer.sinusoidal(50, 8)
    torch.testing.assert_close(table[0], torch.tensor([0.0, 1, 0, 1, 0, 1, 0, 1]))
    assert table[7, 0] == pytest.approx(math.sin(7))
    assert table[7, 1] == pytest.approx(math.cos(7))
    assert table[7, 2] == pytest.approx(math.sin(7 / 10000 ** (2 / 8)))


def test_encoder_ignores_padding():
    config = {**registry.card("transformer").default_config("quick"), "task": "sentiment"}
    torch.manual_seed(0)
    model = transformer.build_model("learned", config, vocab=40).eval()
    ids = torch.tensor([[3, 4, 5, 0, 0], [6, 7, 0, 0, 0]])
    lengths = torch.tensor([3, 2])
    with torch.no_grad():
        short = model(ids[:, :3], lengths)
        long = model(torch.cat([ids, torch.zeros(2, 4, dtype=torch.long)], 1), lengths)
    torch.testing.assert_close(short, long, rtol=1e-5, atol=1e-6)


def test_generation_near_zero_temperature_is_greedy():
    model, corpus = gpt(), load_shakespeare()
    texts = [generate(model, corpus, "ROMEO:", 25, temperature=1e-4, top_k=0, context=32,
                      generator=torch.Generator().manual_seed(s)) for s in (1, 2)]
    assert texts[0] == texts[1]
    ids = corpus.encode("ROMEO:")
    with torch.no_grad():
        for _ in range(25):
            ids = torch.cat([ids, model(ids[None, -32:])[0, -1].argmax()[None]])
    assert texts[0] == corpus.decode(ids)
    sampled = generate(model, corpus, "ROMEO:", 25, temperature=1.5, top_k=0, context=32,
                       generator=torch.Generator().manual_seed(1))
    assert sampled != texts[0] and sampled.startswith("ROMEO:") and len(sampled) == 31


def test_top_k_one_is_greedy_too():
    model, corpus = gpt(), load_shakespeare()
    greedy = generate(model, corpus, "A", 15, temperature=1e-4, top_k=0, context=32)
    top1 = generate(model, corpus, "A", 15, temperature=2.0, top_k=1, context=32,
                    generator=torch.Generator().manual_seed(5))
    assert greedy == top1


def test_warmup_cosine_schedule():
    assert warmup_cosine(0, 1000, 100) == pytest.approx(0.01)
    assert warmup_cosine(99, 1000, 100) == pytest.approx(1.0)
    assert warmup_cosine(100, 1000, 100) == pytest.approx(1.0)
    assert warmup_cosine(550, 1000, 100) == pytest.approx(0.55)
    assert warmup_cosine(1000, 1000, 100) == pytest.approx(0.1)


def test_heads_must_divide_width():
    with pytest.raises(ConfigError, match="^heads must divide width, got 3 heads for width 64$"):
        registry.build_spec("transformer", "learned", "quick", {"heads": 3, "width": 64})
    with pytest.raises(ConfigError, match="^sent_heads must divide sent_width"):
        registry.build_spec("transformer", "learned", "quick", {"sent_heads": 5})
