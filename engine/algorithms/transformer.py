"""Transformer: self-attention on the same two text tasks as the LSTM page.

charlm: a decoder-only (GPT-style) Transformer; causal self-attention lets position t see
positions <= t only, so every position of a window is one next-character prediction.
sentiment: the same blocks without the causal mask (an encoder: every word sees the whole
sentence, padding hidden), mean-pooled into one vector and a linear classifier.

Variants differ only in how the model knows word order:
  learned    - a trained embedding vector per position (GPT);
  sinusoidal - fixed sines and cosines of the position (the original Transformer).
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.algorithms.common import precision_setting
from engine.algorithms.sequence_tasks import train_charlm, train_sentiment
from engine.core import COSTS_LESS, COSTS_MORE, Card, ConfigError, RunResult, setting

CHARLM_VOCAB = 65  # distinct characters in tiny Shakespeare


@dataclass(frozen=True)
class Config:
    task: str = setting("charlm", "charlm: next character of tiny Shakespeare; sentiment: "
                        "positive or negative movie-review sentence", choices=("charlm", "sentiment"))
    layers: int = setting(4, "charlm: Transformer blocks", lo=1, hi=12, task="charlm", cost=COSTS_MORE)
    heads: int = setting(4, "charlm: attention heads per block (must divide width)", lo=1, hi=16,
                         task="charlm")
    width: int = setting(128, "charlm: size of every position's vector", lo=8, hi=1024,
                         task="charlm", cost=COSTS_MORE)
    context: int = setting(64, "charlm: characters per window (how far attention reaches)",
                           lo=8, hi=512, task="charlm", cost=COSTS_MORE)
    steps: int = setting(1000, "charlm: gradient steps", lo=1, hi=100000, task="charlm", cost=COSTS_MORE)
    batch_size: int = setting(32, "charlm: windows per gradient step", lo=1, hi=1024,
                              task="charlm", cost=COSTS_MORE)
    lr: float = setting(3e-3, "charlm: peak learning rate (AdamW, warm-up then cosine decay)",
                        lo=1e-5, hi=0.1, task="charlm")
    warmup: int = setting(100, "charlm: warm-up steps", lo=0, hi=10000, task="charlm")
    dropout: float = setting(0.0, "charlm: dropout on attention outputs and MLPs", lo=0.0, hi=0.9,
                             task="charlm")
    eval_every: int = setting(100, "charlm: steps between validation estimates", lo=1, hi=100000,
                              task="charlm", cost=COSTS_LESS)
    sent_epochs: int = setting(8, "sentiment: passes over the 8,530 training sentences",
                               lo=1, hi=100, task="sentiment", cost=COSTS_MORE)
    sent_layers: int = setting(2, "sentiment: encoder blocks", lo=1, hi=12, task="sentiment", cost=COSTS_MORE)
    sent_heads: int = setting(4, "sentiment: attention heads (must divide sent_width)",
                              lo=1, hi=16, task="sentiment")
    sent_width: int = setting(128, "sentiment: size of every word's vector", lo=8, hi=1024,
                              task="sentiment", cost=COSTS_MORE)
    sent_dropout: float = setting(0.3, "sentiment: dropout on embeddings, attention outputs, "
                                  "MLPs and the pooled vector", lo=0.0, hi=0.9, task="sentiment")
    sent_lr: float = setting(1e-3, "sentiment: peak learning rate", lo=1e-5, hi=0.1,
                             task="sentiment")
    sent_batch_size: int = setting(64, "sentiment: sentences per gradient step", lo=1, hi=1024,
                                   task="sentiment")
    weight_decay: float = setting(0.1, "AdamW weight decay on weight matrices", lo=0.0, hi=1.0)
    precision: str = precision_setting(task="charlm")

    def __post_init__(self):
        for heads, width in (("heads", "width"), ("sent_heads", "sent_width")):
            if getattr(self, width) % getattr(self, heads):
                raise ConfigError("error.heads_divide", heads=heads, width=width,
                                  n_heads=getattr(self, heads), n_width=getattr(self, width))


def sinusoidal(positions: int, width: int) -> torch.Tensor:
    """(P, W) fixed position codes: sin on even, cos on odd dimensions, wavelengths
    growing geometrically from 2*pi to 10000*2*pi."""
    pos = torch.arange(positions, dtype=torch.float32)[:, None]  # (P, 1)
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, width, 2) / width)  # (W/2,)
    table = torch.zeros(positions, width)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq)[:, :width // 2]
    return table


class SelfAttention(nn.Module):
    def __init__(self, width: int, heads: int, dropout: float):
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)

    def forward(self, x: torch.Tensor, causal: bool, keep: torch.Tensor | None = None,
                want_weights: bool = False):
        """x (B, T, W); keep (B, T) True for real tokens (None: all real).
        Returns y (B, T, W) and, if want_weights, the attention (B, nh, T, T)."""
        b, t, w = x.shape
        q, k, v = self.qkv(x).split(w, dim=2)
        q, k, v = (z.view(b, t, self.heads, w // self.heads).transpose(1, 2)
                   for z in (q, k, v))  # (B, nh, T, hs)
        mask = None if keep is None else keep[:, None, None, :]  # (B, 1, 1, T) keys to see
        weights = None
        if want_weights:  # the same maths spelled out, to show the attention map
            scores = q @ k.transpose(-2, -1) / math.sqrt(k.shape[-1])  # (B, nh, T, T)
            if causal:
                future = torch.ones(t, t, dtype=torch.bool).triu(1)
                scores = scores.masked_fill(future, float("-inf"))
            if mask is not None:
                scores = scores.masked_fill(~mask, float("-inf"))
            weights = scores.softmax(-1)
            y = weights @ v
        else:
            # On a CPU, SDPA's backward in bfloat16 took 5x as long as in float32 (profiled
            # at width 128, context 64), so under autocast attention itself runs in float32
            # there; the linear layers around it stay in bfloat16.
            cpu_autocast = x.device.type == "cpu" and torch.is_autocast_enabled("cpu")
            if cpu_autocast:
                q, k, v = q.float(), k.float(), v.float()
            with torch.autocast("cpu", enabled=False) if cpu_autocast else contextlib.nullcontext():
                y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal,
                                                   dropout_p=self.dropout if self.training else 0.0)
        y = y.transpose(1, 2).reshape(b, t, w)  # (B, T, W): heads side by side again
        return F.dropout(self.proj(y), self.dropout, self.training), weights


class Block(nn.Module):
    """Pre-norm Transformer block: x + attention(norm(x)), then x + MLP(norm(x))."""

    def __init__(self, width: int, heads: int, dropout: float):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.attn = SelfAttention(width, heads, dropout)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(),
                                 nn.Linear(4 * width, width), nn.Dropout(dropout))

    def forward(self, x, causal, keep=None, want_weights=False):
        y, weights = self.attn(self.norm1(x), causal, keep, want_weights)
        x = x + y
        return x + self.mlp(self.norm2(x)), weights


class Transformer(nn.Module):
    """charlm (causal): (B, T) ids -> (B, T, V) next-character logits.
    sentiment (encoder): (B, L) ids, (B,) lengths -> (B, 2) logits."""

    def __init__(self, variant: str, task: str, vocab: int, width: int, heads: int,
                 layers: int, positions: int, dropout: float):
        super().__init__()
        self.task, self.variant = task, variant
        self.embed = nn.Embedding(vocab, width)
        if variant == "learned":
            self.pos = nn.Parameter(torch.randn(positions, width) * 0.02)
        else:
            # scaled to the size of the initial token embeddings (std 0.02), so the
            # fixed codes do not drown the characters at the start of training
            self.register_buffer("pos", 0.02 * sinusoidal(positions, width), persistent=False)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(width, heads, dropout) for _ in range(layers))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab if task == "charlm" else 2)
        self.apply(self._init)

    @staticmethod
    def _init(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
            if getattr(module, "bias", None) is not None:
                nn.init.zeros_(module.bias)

    def features(self, ids, lengths=None, want_weights=False):
        """(B, T) ids -> (B, T, W) final vectors and the list of per-layer attention maps."""
        t = ids.shape[1]
        x = self.drop(self.embed(ids) + self.pos[:t])  # (B, T, W)
        keep = None if lengths is None else torch.arange(t)[None, :] < lengths[:, None]
        maps = []
        for block in self.blocks:
            x, weights = block(x, self.task == "charlm", keep, want_weights)
            maps.append(weights)
        return self.norm(x), keep, maps

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        x, keep, _ = self.features(ids, lengths)
        if self.task == "charlm":
            return self.head(x)  # (B, T, V)
        pooled = (x * keep[..., None]).sum(1) / lengths[:, None]  # (B, W): mean of real words
        return self.head(self.drop(pooled))

    @torch.inference_mode()
    def attention(self, ids: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """(1, T) ids -> (layers, heads, T, T) attention weights; row = query position."""
        self.eval()
        _, _, maps = self.features(ids, lengths, want_weights=True)
        return torch.stack([m[0] for m in maps])


def build_model(variant: str, config: dict, vocab: int = CHARLM_VOCAB) -> Transformer:
    """The model a run of `variant` trains; `vocab` is the run's vocabulary size."""
    if config["task"] == "charlm":
        return Transformer(variant, "charlm", vocab, config["width"], config["heads"],
                           config["layers"], config["context"], config["dropout"])
    from engine.data.text import MAX_WORDS

    return Transformer(variant, "sentiment", vocab, config["sent_width"], config["sent_heads"],
                       config["sent_layers"], MAX_WORDS, config["sent_dropout"])


def run(spec, report) -> RunResult:
    cfg = spec.config
    if cfg["task"] == "charlm":
        model = build_model(spec.variant, cfg)
        return train_charlm(spec, report, model, steps=cfg["steps"], batch_size=cfg["batch_size"],
                            context=cfg["context"], lr=cfg["lr"],
                            weight_decay=cfg["weight_decay"], warmup=cfg["warmup"],
                            eval_every=cfg["eval_every"], precision=cfg["precision"])
    from engine.data.text import load_polarity

    model = build_model(spec.variant, cfg, len(load_polarity().words))
    return train_sentiment(spec, report, model, epochs=cfg["sent_epochs"],
                           batch_size=cfg["sent_batch_size"], lr=cfg["sent_lr"],
                           weight_decay=cfg["weight_decay"])


EXPLANATION = """
**Principle.** A Transformer replaces recurrence with *self-attention*. Every position
turns its vector into a query, a key and a value. The weight position i gives position j
is the softmax over j of the dot product of query i with key j (scaled by the square root
of the key size); the output at i is the weighted sum of the values. Several *heads* do
this in parallel on slices of the vector, so one head can track, say, the previous
character while another looks for the start of the word. Each block follows attention with
a small two-layer MLP applied to every position separately; residual connections and
layer normalisation around both keep deep stacks trainable. Attention by itself ignores
order, so a position code is added to each input vector: a learned vector per position
(`learned`, as in GPT) or fixed sines and cosines of several wavelengths (`sinusoidal`, as
in the original paper).

**Training.** For text generation the model is a *decoder*: a causal mask stops position
t from attending to anything after t, so a window of T characters gives T next-character
predictions in one parallel pass, all trained with cross-entropy. For sentiment the same
blocks run without the mask (an *encoder*: every word sees the whole sentence), the final
vectors are averaged and a linear layer gives the two class scores. AdamW with warm-up
and a cosine decay, gradient clipping at norm 1.

**Strengths.** The whole sequence is processed at once, so training uses the hardware
well; any position reaches any other in one step, so long-range links are easy to learn;
the design scales to the largest language models there are.

**Weaknesses.** Attention costs grow with the square of the context length; the context
is a hard limit (nothing before it is seen); with little data and no pre-training it
overfits more readily than a recurrent net (see the sentiment task); it needs warm-up and
care with the learning rate.

**Uses.** Language models and chat assistants (GPT), translation, search and
classification (BERT-style encoders), and beyond text: images, speech, proteins.

**The variants.** Both tasks use both variants: they differ only in the position code.
Which architecture runs follows from the task (a causal decoder for `charlm`, an encoder
for `sentiment`), so `--set task=sentiment` compares the same two variants there.
"""

CARD = Card(
    version=2,  # v2: charlm trains in bf16 autocast where the CPU/GPU has it (precision=auto)
    code=(SelfAttention, Transformer, train_charlm),
    key="transformer",
    title="Transformer (self-attention)",
    family="Sequences",
    summary="Every position looks at every (earlier) position and takes what it needs.",
    explanation=EXPLANATION,
    variants={
        "learned": "learned position embeddings (GPT-style)",
        "sinusoidal": "fixed sinusoidal position codes (original Transformer)",
    },
    presets={
        "quick": {"steps": 60, "layers": 2, "width": 64, "context": 32, "batch_size": 16,
                  "warmup": 10, "eval_every": 30, "sent_epochs": 1, "sent_layers": 1,
                  "sent_width": 32},
        # Half the blocks, twice the steps, the same time: at 4 blocks and 1,000 steps the
        # learned positions reach val loss 1.759, at 2 blocks and 2,000 steps 1.643 (1,500
        # steps at 4 blocks: 1.673; peak lr 5e-3: 1.733).
        "standard": {"layers": 2, "steps": 2000},
        "full": {"steps": 5000, "context": 128, "lr": 2e-3, "eval_every": 250},
    },
    metrics=("val/loss", "val/bpc", "train/loss", "time/tokens_per_second"),
    headline="val/loss",
    headline_label="validation loss (nats/char; sentiment: per sentence)",
    higher_is_better=False,
    config_cls=Config,
    run=run,
    data_field="task",
)
