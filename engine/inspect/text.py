"""Inspecting finished LSTM and Transformer runs: the restored model, text generation
from a prompt, the recurrent state and gates along an input, attention maps, a visitor's
sentence scored for sentiment, and the other family's best run on the same task."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from engine.algorithms import lstm, sequence_tasks, transformer
from engine.data.text import MAX_WORDS, UNK, CharCorpus, load_shakespeare, tokenize

BUILDERS = {"lstm": lstm.build_model, "transformer": transformer.build_model}


def restore(run: dict, artifacts: dict) -> nn.Module:
    """A finished run's model (character LM or sentence classifier), rebuilt from its
    stored weights with its own vocabulary size, in eval mode."""
    spec = run["spec"]
    vocab = len(artifacts["chars"] if "chars" in artifacts else artifacts["words"])
    model = BUILDERS[run["algorithm"]](spec["variant"], spec["config"], vocab)
    model.load_state_dict(artifacts["state_dict"])
    return model.eval()


def characters(chars: str | None = None) -> CharCorpus:
    """The characters a char-LM run reads and writes: `chars`, those stored with the run
    (artifacts["chars"]), so a page needs no corpus on disk; without them the corpus's own
    (which reads tiny Shakespeare: DataMissing where it is nowhere)."""
    if chars is None:
        return load_shakespeare()
    empty = torch.empty(0, dtype=torch.long)
    return CharCorpus(chars, empty, empty)


def encode(text: str, chars: str | None = None) -> torch.Tensor:
    """Text -> (T,) character ids of a run's vocabulary `chars` (else tiny Shakespeare's);
    ValueError for an unknown character."""
    return characters(chars).encode(text)


def best_run(runs: list[dict], task: str) -> dict | None:
    """The best finished run for a task: lowest val/loss (charlm), highest test/acc."""
    runs = [r for r in runs if r["spec"]["config"].get("task") == task and r["metrics"]]
    if task == "charlm":
        return min(runs, key=lambda r: r["metrics"]["val/loss"], default=None)
    return max(runs, key=lambda r: r["metrics"]["test/acc"], default=None)


def generate(model: nn.Module, prompt: str, length: int, *, temperature: float, top_k: int,
             context: int, seed: int = 0, chars: str | None = None) -> str:
    """Continue `prompt` by `length` characters of the run's vocabulary `chars` (else tiny
    Shakespeare's); raises ValueError for a character outside it."""
    return sequence_tasks.generate(model, characters(chars), prompt, length,
                                   temperature=temperature, top_k=top_k, context=context,
                                   generator=torch.Generator().manual_seed(seed))


@torch.inference_mode()
def trace(model: lstm.CharRNN, ids: torch.Tensor) -> dict[str, torch.Tensor]:
    """Re-run a trained char model by hand, one time step at a time, to expose what
    nn.RNN/GRU/LSTM keep inside: per layer the hidden state h, the LSTM cell state c
    and every gate. (T,) ids -> {"h": (layers, T, H), "c": ..., "<gate>": ...}.
    PyTorch stacks the gate weights as (i, f, g, o) for the LSTM and (r, z, n) for the GRU."""
    rnn, kind = model.rnn, model.variant
    x = model.embed(ids)  # (T, E): the input of layer 0
    names = {"rnn": [], "gru": ["reset", "update"], "lstm": ["input", "forget", "output"]}[kind]
    out = {k: [] for k in ["h", *(["c"] if kind == "lstm" else []), *names]}
    for layer in range(rnn.num_layers):
        w_ih, w_hh = getattr(rnn, f"weight_ih_l{layer}"), getattr(rnn, f"weight_hh_l{layer}")
        b_ih, b_hh = getattr(rnn, f"bias_ih_l{layer}"), getattr(rnn, f"bias_hh_l{layer}")
        h = c = torch.zeros(rnn.hidden_size)
        rows = {k: [] for k in out}
        for t in range(len(ids)):
            gi, gh = w_ih @ x[t] + b_ih, w_hh @ h + b_hh  # (G*H,) each
            if kind == "rnn":
                h = torch.tanh(gi + gh)
            elif kind == "gru":
                (ir, iz, inn), (hr, hz, hn) = gi.chunk(3), gh.chunk(3)
                r, z = torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)
                h = (1 - z) * torch.tanh(inn + r * hn) + z * h
                rows["reset"].append(r), rows["update"].append(z)
            else:
                i, f, g, o = (gi + gh).chunk(4)
                i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)
                c = f * c + i * torch.tanh(g)
                h = o * torch.tanh(c)
                rows["c"].append(c), rows["input"].append(i)
                rows["forget"].append(f), rows["output"].append(o)
            rows["h"].append(h)
        for k in out:
            out[k].append(torch.stack(rows[k]))  # (T, H)
        x = torch.stack(rows["h"])  # the next layer reads this layer's h
    return {k: torch.stack(v) for k, v in out.items()}  # each (layers, T, H)


def sentence_ids(words: list[str], sentence: str) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """A visitor's sentence -> ((1, L) word ids, (1,) length, the L words as read); words
    not in the run's vocabulary become <unk>."""
    index = {w: i for i, w in enumerate(words)}
    tokens = tokenize(sentence)[:MAX_WORDS] or ["<unk>"]
    ids = [index.get(w, UNK) for w in tokens]
    return torch.tensor([ids]), torch.tensor([len(ids)]), tokens


@torch.inference_mode()
def p_positive(model: nn.Module, words: list[str], sentence: str) -> float:
    """A visitor's sentence -> the model's probability that it is positive."""
    ids, lengths, _ = sentence_ids(words, sentence)
    model.eval()
    return float(model(ids, lengths).softmax(-1)[0, 1])  # (1, 2) -> p(positive)


@torch.inference_mode()
def attention(model: transformer.Transformer, artifacts: dict, config: dict,
              text: str) -> tuple[np.ndarray, list[str]]:
    """Attention weights (layers, heads, T, T) of a Transformer on `text` and the T tokens
    they are over: the last `context` characters for the char LM, the words read for the
    sentence encoder (raises ValueError for a character outside the corpus)."""
    if config["task"] == "charlm":
        text = text[-config["context"]:]
        ids, lengths, tokens = encode(text, artifacts.get("chars"))[None], None, list(text)
    else:
        ids, lengths, tokens = sentence_ids(artifacts["words"], text)
    return model.attention(ids, lengths).numpy(), tokens
