"""LSTM: recurrent networks on two text tasks, side by side with a memory-free baseline.

Variants (the same four names serve both tasks, so `--set task=sentiment` runs them all):
  baseline - no recurrence: a bigram model for characters (the next character from the
             current one only), the mean of the word embeddings for sentences;
  rnn      - vanilla (Elman) recurrent net with tanh;
  gru      - gated recurrent unit;
  lstm     - long short-term memory.
For sentiment the recurrent variants read the sentence in both directions (`bidirectional`)
and max-pool their outputs over time.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from engine.algorithms.common import precision_setting
from engine.algorithms.sequence_tasks import train_charlm, train_sentiment
from engine.core import COSTS_LESS, COSTS_MORE, Card, RunResult, setting

CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
CHARLM_VOCAB = 65  # distinct characters in tiny Shakespeare


@dataclass(frozen=True)
class Config:
    task: str = setting("charlm", "charlm: next character of tiny Shakespeare; sentiment: "
                        "positive or negative movie-review sentence", choices=("charlm", "sentiment"))
    layers: int = setting(1, "charlm: stacked recurrent layers", lo=1, hi=4, task="charlm", cost=COSTS_MORE)
    hidden: int = setting(256, "charlm: units per recurrent layer", lo=8, hi=1024, task="charlm",
                          cost=COSTS_MORE)
    embed: int = setting(64, "charlm: size of a character's embedding", lo=4, hi=512,
                         task="charlm", cost=COSTS_MORE)
    context: int = setting(64, "charlm: characters per training window (truncated-BPTT length)",
                           lo=8, hi=512, task="charlm", cost=COSTS_MORE)
    steps: int = setting(800, "charlm: gradient steps", lo=1, hi=100000, task="charlm", cost=COSTS_MORE)
    batch_size: int = setting(32, "charlm: windows per gradient step", lo=1, hi=1024,
                              task="charlm", cost=COSTS_MORE)
    lr: float = setting(4e-3, "charlm: peak learning rate (AdamW, warm-up then cosine decay)",
                        lo=1e-5, hi=0.1, task="charlm")
    dropout: float = setting(0.0, "charlm: dropout between recurrent layers and before the "
                             "output layer", lo=0.0, hi=0.9, task="charlm")
    eval_every: int = setting(100, "charlm: steps between validation estimates", lo=1, hi=100000,
                              task="charlm", cost=COSTS_LESS)
    sent_epochs: int = setting(8, "sentiment: passes over the 8,530 training sentences",
                               lo=1, hi=100, task="sentiment", cost=COSTS_MORE)
    sent_embed: int = setting(128, "sentiment: size of a word's embedding", lo=4, hi=1024,
                              task="sentiment", cost=COSTS_MORE)
    sent_hidden: int = setting(128, "sentiment: recurrent units per direction", lo=4, hi=1024,
                               task="sentiment", cost=COSTS_MORE)
    bidirectional: bool = setting(True, "sentiment: read each sentence forwards and backwards",
                                  task="sentiment", cost=COSTS_MORE)
    sent_dropout: float = setting(0.5, "sentiment: dropout on embeddings and the pooled vector",
                                  lo=0.0, hi=0.9, task="sentiment")
    sent_lr: float = setting(5e-3, "sentiment: peak learning rate", lo=1e-5, hi=0.1,
                             task="sentiment")
    sent_batch_size: int = setting(64, "sentiment: sentences per gradient step", lo=1, hi=1024,
                                   task="sentiment")
    weight_decay: float = setting(0.01, "AdamW weight decay on weight matrices", lo=0.0, hi=1.0)
    precision: str = precision_setting(task="charlm")


class CharRNN(nn.Module):
    """(B, T) character ids -> (B, T, V) logits of the next character."""

    def __init__(self, variant: str, vocab: int, embed: int, hidden: int, layers: int,
                 dropout: float):
        super().__init__()
        self.variant = variant
        self.embed = nn.Embedding(vocab, embed)
        if variant == "baseline":  # bigram: logits from the current character alone
            self.rnn, width = None, embed
        else:
            self.rnn = CELLS[variant](embed, hidden, layers, batch_first=True,
                                      dropout=dropout if layers > 1 else 0.0)
            width = hidden
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(width, vocab)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.step(ids)[0]  # (B, T, V), starting from a zero state

    def step(self, ids: torch.Tensor, state=None) -> tuple[torch.Tensor, Any]:
        """(B, T) ids and the recurrent state left by the text before them (None: zeros) ->
        ((B, T, V) logits, the state after them), so generation feeds each character once."""
        x = self.embed(ids)  # (B, T, E)
        if self.rnn is not None:
            x, state = self.rnn(x, state)  # (B, T, H)
        return self.head(self.drop(x)), state


class SentenceRNN(nn.Module):
    """(B, L) word ids padded with 0, (B,) lengths -> (B, 2) logits (negative, positive)."""

    def __init__(self, variant: str, vocab: int, embed: int, hidden: int,
                 bidirectional: bool, dropout: float):
        super().__init__()
        self.variant = variant
        self.embed = nn.Embedding(vocab, embed, padding_idx=0)
        if variant == "baseline":
            self.rnn, width = None, embed
        else:
            self.rnn = CELLS[variant](embed, hidden, batch_first=True, bidirectional=bidirectional)
            width = hidden * (2 if bidirectional else 1)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(width, 2)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mask = torch.arange(ids.shape[1])[None, :] < lengths[:, None]  # (B, L) real words
        x = self.drop(self.embed(ids))  # (B, L, E)
        if self.rnn is None:  # mean of the word embeddings, padding excluded
            pooled = (x * mask[..., None]).sum(1) / lengths[:, None]  # (B, E)
        else:
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                                       enforce_sorted=False)
            out, _ = self.rnn(packed)
            out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True,
                                                      total_length=ids.shape[1])  # (B, L, D*H)
            pooled = out.masked_fill(~mask[..., None], float("-inf")).amax(1)  # (B, D*H)
        return self.head(self.drop(pooled))


def build_model(variant: str, config: dict, vocab: int = CHARLM_VOCAB) -> nn.Module:
    """The model a run of `variant` trains; `vocab` is the run's vocabulary size."""
    if config["task"] == "charlm":
        return CharRNN(variant, vocab, config["embed"], config["hidden"], config["layers"],
                       config["dropout"])
    return SentenceRNN(variant, vocab, config["sent_embed"], config["sent_hidden"],
                       config["bidirectional"], config["sent_dropout"])


def run(spec, report) -> RunResult:
    cfg = spec.config
    if cfg["task"] == "charlm":
        model = build_model(spec.variant, cfg)
        return train_charlm(spec, report, model, steps=cfg["steps"], batch_size=cfg["batch_size"],
                            context=cfg["context"], lr=cfg["lr"],
                            weight_decay=cfg["weight_decay"], warmup=min(100, cfg["steps"] // 10 + 1),
                            eval_every=cfg["eval_every"], precision=cfg["precision"])
    from engine.data.text import load_polarity

    model = build_model(spec.variant, cfg, len(load_polarity().words))
    return train_sentiment(spec, report, model, epochs=cfg["sent_epochs"],
                           batch_size=cfg["sent_batch_size"], lr=cfg["sent_lr"],
                           weight_decay=cfg["weight_decay"])


EXPLANATION = """
**Principle.** A recurrent network reads a sequence one item at a time and carries a
state vector from step to step: the new state is a function of the previous state and
the current input, and predictions are read off the state. The same weights are used at
every step, so one small network handles sequences of any length. A *vanilla RNN*
computes `h = tanh(W x + U h_prev + b)`. An *LSTM* adds a separate cell state `c` and three
gates, each a sigmoid between 0 and 1: the forget gate scales the old cell, the input
gate scales the new candidate written into it, the output gate decides how much of the
cell shows in `h`. Because the cell is updated by addition rather than by repeated
squashing, gradients can flow over many steps. A *GRU* merges the idea into two gates
(reset and update) and has no separate cell.

**Training.** The loss at every step is the cross-entropy of the prediction (the next
character; or, for sentiment, the label after pooling over all steps). Back-propagation
through time unrolls the network over the window and applies the chain rule backwards
along it; here each window is `context` characters long (truncated BPTT) and starts from
a zero state. Gradients are clipped to norm 1, the usual guard against the exploding
gradients that recurrence can produce.

**Strengths.** Constant memory per step and no fixed context length; a natural fit for
streams (speech, sensors, text typed live); gating makes long dependencies learnable.

**Weaknesses.** Steps must be computed one after another, so training parallelises only
across the batch, not along the sequence, and is slow on long texts; the state is a
fixed-size bottleneck; many hyper-parameters interact (size, depth, window, dropout).
The Transformer page trains on exactly the same data and budget for comparison.

**Uses.** Language modelling and text generation, speech recognition, handwriting,
time-series forecasting, and as encoders in translation before Transformers.

**The variants.** The same four names serve both tasks. `baseline` has no memory at all:
for characters it is a bigram model (the next character from the current one), for
sentences the mean of the word embeddings (a bag of words). `rnn`, `gru` and `lstm` swap
only the recurrent cell; for sentiment they read the sentence both ways (`bidirectional`)
and keep the largest value of each unit over the sentence (max pooling).
"""

CARD = Card(
    version=2,  # v2: charlm trains in bf16 autocast where the CPU/GPU has it (precision=auto)
    code=(CharRNN, SentenceRNN, train_charlm),
    key="lstm",
    title="LSTM (recurrent networks)",
    family="Sequences",
    summary="A gated recurrent state carries what matters from earlier in the sequence.",
    explanation=EXPLANATION,
    variants={
        "baseline": "no memory: bigram (characters) / mean of word embeddings (sentences)",
        "rnn": "vanilla tanh recurrent net",
        "gru": "gated recurrent unit (reset and update gates)",
        "lstm": "long short-term memory (input, forget and output gates, cell state)",
    },
    presets={
        "quick": {"steps": 60, "hidden": 64, "layers": 1, "context": 32, "batch_size": 32,
                  "eval_every": 30, "sent_epochs": 1, "sent_embed": 32, "sent_hidden": 32},
        # 1,200 steps, not the default 800: LSTM val loss 1.628 instead of 1.696 (GRU 1.606,
        # RNN 1.698) for about half as long again (python -m engine run lstm --set steps=1200)
        "standard": {"steps": 1200},
        "full": {"steps": 2000, "eval_every": 200, "sent_epochs": 12, "sent_hidden": 64},
    },
    metrics=("val/loss", "val/bpc", "train/loss", "time/tokens_per_second"),
    headline="val/loss",
    headline_label="validation loss (nats/char; sentiment: per sentence)",
    higher_is_better=False,
    config_cls=Config,
    run=run,
    data_field="task",
)
