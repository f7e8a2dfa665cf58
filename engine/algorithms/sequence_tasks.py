"""The two training loops shared by the LSTM and Transformer pages, so their numbers compare.

Character language model (tiny Shakespeare): a model maps (B, T) character ids to (B, T, V)
next-character logits. Training samples B random windows of T+1 characters from the first
90% of the text; every window starts from an empty context (zero recurrent state, nothing
to attend to), for recurrent nets and Transformers alike, so T is both the truncated-BPTT
length and the attention context. Validation loss is the mean cross-entropy in nats per
character over the whole last 10%, cut into non-overlapping windows of T characters.

Sentence sentiment (sentence_polarity): a model maps (B, L) word ids padded with 0 and
(B,) lengths to (B, 2) logits. The epoch with the best validation accuracy is kept and
scored once on the test split.
"""
from __future__ import annotations

import math
import time

import torch
import torch.nn.functional as F
from torch import nn

from engine import settings
from engine.algorithms.common import count_params, resolve_precision
from engine.core import Report, RunResult
from engine.data.text import load_polarity, load_shakespeare

PROMPT = "ROMEO:\n"  # the prompt of the sample stored with every char-LM run


def make_optimizer(model: nn.Module, lr: float, weight_decay: float) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices only (not on biases, norms or scalars)."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.99))


def warmup_cosine(step: int, total: int, warmup: int) -> float:
    """Learning-rate factor: linear warm-up, then cosine decay to 10% of the peak."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.1 + 0.45 * (1 + math.cos(math.pi * progress))


@torch.inference_mode()
def char_loss(model: nn.Module, ids: torch.Tensor, context: int, max_windows: int = 0,
              batch: int = 256) -> float:
    """Mean next-character cross-entropy (nats) over non-overlapping windows of `context`
    characters of `ids` (all of them, or `max_windows` spread evenly over the text)."""
    model.eval()
    device = next(model.parameters()).device
    n = (len(ids) - 1) // context
    starts = torch.arange(n) * context
    if max_windows and n > max_windows:
        starts = starts[torch.linspace(0, n - 1, max_windows).long()]
    offsets = torch.arange(context + 1)
    total, count = 0.0, 0
    for i in range(0, len(starts), batch):
        windows = ids[starts[i:i + batch, None] + offsets].to(device)  # (b, T+1)
        logits = model(windows[:, :-1])  # (b, T, V)
        total += float(F.cross_entropy(logits.flatten(0, 1), windows[:, 1:].flatten(),
                                       reduction="sum"))
        count += windows[:, 1:].numel()
    model.train()
    return total / count


def train_charlm(spec, report: Report, model: nn.Module, *, steps: int, batch_size: int,
                 context: int, lr: float, weight_decay: float, warmup: int, eval_every: int,
                 eval_windows: int = 200, stop_at: float = 0.0,
                 precision: str = "fp32") -> RunResult:
    """Train `model` as a character LM; report train/loss often and val/loss, val/bpc every
    `eval_every` steps (on `eval_windows` windows of the validation text; the final figure
    uses all of it). With stop_at > 0, training stops at the first evaluation whose
    validation loss is at or below it (the benchmark's time-to-target). precision: 'fp32',
    'bf16' or 'auto' (resolve_precision): bf16 runs the forward and backward pass in
    bfloat16 autocast (weights, optimiser and loss stay float32); validation runs in float32.
    Trains on settings.device(); the model comes back on the CPU."""
    corpus = load_shakespeare()
    device = settings.device()
    model.to(device)
    bf16 = resolve_precision(precision, device) == "bf16"
    generator = torch.Generator().manual_seed(spec.seed)
    opt = make_optimizer(model, lr, weight_decay)
    offsets = torch.arange(context + 1)
    report_every = max(1, min(50, eval_every // 4))
    model.train()

    train_seconds, running, seen, step = 0.0, 0.0, 0, 0
    reached_at = float("nan")
    while step < steps:
        started = time.perf_counter()
        for group in opt.param_groups:
            group["lr"] = lr * warmup_cosine(step, steps, warmup)
        starts = torch.randint(0, len(corpus.train) - context - 1, (batch_size,),
                               generator=generator)
        windows = corpus.train[starts[:, None] + offsets].to(device)  # (B, T+1)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            logits = model(windows[:, :-1])  # (B, T, V)
        loss = F.cross_entropy(logits.float().flatten(0, 1), windows[:, 1:].flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        train_seconds += time.perf_counter() - started
        running, seen = running + float(loss.detach()), seen + 1
        if step % report_every == 0 or step == steps:
            last_train_loss = running / seen
            report(step, {"train/loss": last_train_loss,
                          "time/tokens_per_second": step * batch_size * context / train_seconds})
            report.progress(step, steps, f"step {step}/{steps}")
            running, seen = 0.0, 0
        if step % eval_every == 0 or step == steps:
            val = char_loss(model, corpus.val, context, eval_windows)
            report(step, {"val/loss": val, "val/bpc": val / math.log(2),
                          "time/train_seconds": train_seconds})
            if stop_at and val <= stop_at:
                reached_at = train_seconds
                break

    report.progress(step, steps, "scoring the whole validation text")
    val = char_loss(model, corpus.val, context)
    model.cpu()
    metrics = {"val/loss": val, "val/bpc": val / math.log(2), "train/loss": last_train_loss,
               "time/tokens_per_second": step * batch_size * context / train_seconds,
               "time/ms_per_step": 1000 * train_seconds / step, "steps": float(step)}
    if stop_at:
        metrics["time/seconds_to_target"] = reached_at
    sample = generate(model, corpus, PROMPT, 300, temperature=0.8, top_k=0, context=context,
                      generator=torch.Generator().manual_seed(spec.seed))
    artifacts = {"state_dict": model.state_dict(), "chars": corpus.chars, "sample": sample}
    return RunResult(metrics, count_params(model), train_seconds, artifacts)


@torch.inference_mode()
def generate(model: nn.Module, corpus, prompt: str, length: int, *, temperature: float,
             top_k: int, context: int, generator: torch.Generator | None = None) -> str:
    """Continue `prompt` by `length` characters, sampling the next one from
    softmax(logits / temperature), restricted to the top_k most likely when top_k > 0.
    A temperature below 1e-3 means greedy: always the most likely character.
    A recurrent model (one with `step`) reads the prompt's last `context` characters once
    and then carries its state, one character per step; a Transformer re-reads the last
    `context` characters (the window it was trained on) at every step."""
    model.eval()
    ids = corpus.encode(prompt or "\n")
    recurrent = hasattr(model, "step")
    window, state, out = ids[None, -context:], None, []
    for _ in range(length):
        if recurrent:
            logits, state = model.step(window, state)
        else:
            logits = model(window)
        logits = logits[0, -1]  # (V,) scores of the next character
        if temperature < 1e-3:
            nxt = int(logits.argmax())
        else:
            logits = logits / temperature
            if 0 < top_k < len(logits):
                cutoff = logits.topk(top_k).values[-1]
                logits = logits.masked_fill(logits < cutoff, float("-inf"))
            nxt = int(torch.multinomial(logits.softmax(-1), 1, generator=generator))
        out.append(nxt)
        ids = torch.cat([ids, torch.tensor([nxt])])
        window = ids[None, -1:] if recurrent else ids[None, -context:]
    return prompt + corpus.decode(out)


@torch.inference_mode()
def sentence_scores(model: nn.Module, split, batch: int = 512) -> tuple[float, float, torch.Tensor]:
    """Mean loss, accuracy and (N,) probability of positive over one split."""
    model.eval()
    tokens, lengths, labels = split
    logits = torch.cat([model(tokens[i:i + batch], lengths[i:i + batch])
                        for i in range(0, len(labels), batch)])  # (N, 2)
    model.train()
    loss = float(F.cross_entropy(logits, labels))
    return loss, float((logits.argmax(1) == labels).float().mean()), logits.softmax(-1)[:, 1]


def train_sentiment(spec, report: Report, model: nn.Module, *, epochs: int, batch_size: int,
                    lr: float, weight_decay: float) -> RunResult:
    """Train `model` on sentence_polarity; keep the epoch with the best validation accuracy.
    Always on the CPU: these models are small, and packed sequences want CPU lengths."""
    data = load_polarity()
    tokens, lengths, labels = data.splits["train"]
    generator = torch.Generator().manual_seed(spec.seed)
    opt = make_optimizer(model, lr, weight_decay)
    steps_per_epoch = math.ceil(len(labels) / batch_size)
    total = epochs * steps_per_epoch
    report_every = max(1, steps_per_epoch // 5)

    best_acc, best_state, best_epoch = -1.0, None, 0
    train_seconds, step = 0.0, 0
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        # Batches of sentences of similar length (shuffled, then stably sorted by length),
        # taken in random order: recurrent nets then run few padded steps.
        order = torch.randperm(len(labels), generator=generator)
        order = order[lengths[order].argsort(stable=True)]
        batches = list(order.split(batch_size))
        running, correct, seen = 0.0, 0.0, 0
        for b in torch.randperm(len(batches), generator=generator).tolist():
            for group in opt.param_groups:
                group["lr"] = lr * warmup_cosine(step, total, max(1, total // 20))
            idx = batches[b]
            width = int(lengths[idx].max())  # trim padding beyond the longest sentence
            logits = model(tokens[idx, :width], lengths[idx])  # (B, 2)
            loss = F.cross_entropy(logits, labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            running += float(loss.detach()) * len(idx)
            correct += float((logits.argmax(1) == labels[idx]).sum())
            seen += len(idx)
            if step % report_every == 0:
                report(step, {"train/loss": running / seen, "train/acc": correct / seen})
                report.progress(step, total, f"epoch {epoch}/{epochs}")
                running, correct, seen = 0.0, 0.0, 0
        train_seconds += time.perf_counter() - started
        val_loss, val_acc, _ = sentence_scores(model, data.splits["val"])
        report(step, {"val/loss": val_loss, "val/acc": val_acc, "epoch": epoch})
        if val_acc > best_acc:
            best_acc, best_epoch = val_acc, epoch
            best_state = {k: v.clone() for k, v in model.state_dict().items()}

    model.load_state_dict(best_state)
    val_loss, val_acc, _ = sentence_scores(model, data.splits["val"])
    test_loss, test_acc, test_prob = sentence_scores(model, data.splits["test"])
    metrics = {"test/acc": test_acc, "test/loss": test_loss, "val/acc": val_acc,
               "val/loss": val_loss, "best_epoch": float(best_epoch),
               "time/sentences_per_second": epochs * len(labels) / train_seconds}
    # The most confident mistakes on the test split, for the page.
    test_labels = data.splits["test"][2]
    wrong = ((test_prob > 0.5).long() != test_labels).nonzero().flatten()
    worst = wrong[(test_prob[wrong] - 0.5).abs().argsort(descending=True)[:10]].tolist()
    artifacts = {"state_dict": model.state_dict(), "words": data.words,
                 "mistakes": [{"text": data.texts["test"][i], "label": int(test_labels[i]),
                               "p_positive": float(test_prob[i])} for i in worst]}
    return RunResult(metrics, count_params(model), train_seconds, artifacts)
