"""The one image-classification loop behind DNN, CNN and ResNet, so their numbers compare.

Data stays as uint8 tensors in memory; a batch is one index into them, normalised and
(optionally) shifted on the fly, then moved to the training device (TOP10_DEVICE). This is
what makes the loop several times faster than a DataLoader that calls PIL and ToTensor once
per image. Convolutional models may also train in bfloat16 (autocast, weights stay float32)
with channels-last tensors, which the CPU's matrix units (AMX / AVX512-BF16) run several
times faster than float32.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn

from engine import settings
from engine.algorithms.common import count_params, resolve_precision
from engine.core import Report, RunResult
from engine.data.images import load_images, normalise

VALIDATION_SIZE = 5000  # the last 5,000 training images; the 10,000 test images stay unseen
GradGroups = Callable[[nn.Module], Iterable[tuple[str, list[nn.Parameter]]]]
def random_shift(x: torch.Tensor, pixels: int, generator: torch.Generator,
                 flip: bool = False) -> torch.Tensor:
    """Shift each image of (B, 1, H, W) by up to `pixels` in x and y (zero fill);
    optionally mirror half of them left-right (for clothes, not for digits)."""
    b, _, h, w = x.shape
    padded = F.pad(x, (pixels, pixels, pixels, pixels), value=float(x.min()))
    dy = torch.randint(0, 2 * pixels + 1, (b,), generator=generator)
    dx = torch.randint(0, 2 * pixels + 1, (b,), generator=generator)
    rows = (torch.arange(h)[None, :] + dy[:, None])[:, :, None]  # (B, H, 1)
    cols = (torch.arange(w)[None, :] + dx[:, None])[:, None, :]  # (B, 1, W)
    out = padded[torch.arange(b)[:, None, None], 0, rows, cols].unsqueeze(1)  # (B, 1, H, W)
    if flip:
        mirror = torch.rand(b, generator=generator) < 0.5
        out[mirror] = out[mirror].flip(-1)
    return out


@torch.inference_mode()
def evaluate(model: nn.Module, x_uint8: torch.Tensor, y: torch.Tensor, dataset: str,
             batch: int = 1000, bf16: bool = False) -> tuple[float, float, torch.Tensor]:
    """Mean loss, accuracy and (N, C) softmax probabilities (on the CPU) over a whole split,
    on the model's device, in bfloat16 autocast if the model trained that way, else float32."""
    model.eval()
    device = next(model.parameters()).device
    losses, probs = [], []
    for i in range(0, len(y), batch):
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            logits = model(normalise(x_uint8[i:i + batch], dataset).to(device)).float().cpu()
        losses.append(F.cross_entropy(logits, y[i:i + batch], reduction="sum"))
        probs.append(logits.softmax(-1))
    p = torch.cat(probs)
    return float(torch.stack(losses).sum() / len(y)), float((p.argmax(1) == y).float().mean()), p


def inference_ms_per_image(model: nn.Module, dataset: str, sample: torch.Tensor) -> float:
    """Wall-clock ms per image for a batch of test images (after one warm-up pass)."""
    model.eval()
    x = normalise(sample, dataset)
    model(x[:8])
    start = time.perf_counter()
    model(x)
    return 1000 * (time.perf_counter() - start) / len(x)


def grad_norms(groups: Iterable[tuple[str, list[nn.Parameter]]]) -> dict[str, float]:
    """L2 norm of the gradient of each named parameter group (after backward)."""
    out = {}
    for name, params in groups:
        grads = [p.grad.detach().flatten() for p in params if p.grad is not None]
        if grads:
            out[f"grad/{name}"] = float(torch.cat(grads).norm())
    return out


def train_classifier(spec, report: Report, model: nn.Module, *, epochs: int, batch_size: int,
                     lr: float, weight_decay: float = 0.0, train_limit: int = 0,
                     augment: bool = False, optimizer: str = "adamw",
                     grad_groups: GradGroups | None = None, precision: str = "fp32") -> RunResult:
    """Train `model` on the spec's dataset and return test metrics and artifacts.

    Reports train/loss and train/acc about ten times an epoch (plus grad/<group> norms if
    grad_groups is given), progress every step (so a cancel is seen within a second),
    val/loss and val/acc every epoch, and returns test/acc, test/loss, val/acc,
    train/last_epoch_loss (mean training loss over the last epoch), time/infer_ms_per_image
    and time/images_per_second. precision: 'fp32', 'bf16' or 'auto' (see resolve_precision);
    validation and test run in the training precision, the inference timing in float32 on
    the CPU (where the pages run it). Training runs on settings.device(); the returned
    state_dict is always on the CPU.
    """
    dataset = spec.config["dataset"]
    data = load_images(dataset)
    n_train = len(data.train_y) - VALIDATION_SIZE
    if train_limit:
        n_train = min(n_train, train_limit)
    train_x, train_y = data.train_x[:n_train], data.train_y[:n_train]
    val_x, val_y = data.train_x[-VALIDATION_SIZE:], data.train_y[-VALIDATION_SIZE:]
    generator = torch.Generator().manual_seed(spec.seed)

    steps_per_epoch = (n_train + batch_size - 1) // batch_size
    total_steps = epochs * steps_per_epoch
    if optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True,
                              weight_decay=weight_decay)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    # One-cycle: warm up for 15% of the steps, then anneal; converges in few epochs.
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total_steps,
                                                   pct_start=0.15)
    report_every = max(1, steps_per_epoch // 10)
    flip = augment and dataset == "fashion_mnist"
    device = settings.device()
    bf16 = resolve_precision(precision, device) == "bf16"
    layout = torch.channels_last if bf16 else torch.contiguous_format
    model.to(device=device, memory_format=layout)

    step, train_seconds = 0, 0.0
    for epoch in range(1, epochs + 1):
        model.train()
        started = time.perf_counter()
        order = torch.randperm(n_train, generator=generator)
        running_loss = running_correct = running_seen = 0.0
        epoch_loss = 0.0
        for i in range(0, n_train, batch_size):
            idx = order[i:i + batch_size]
            x = normalise(train_x[idx], dataset)  # (B, 1, 28, 28)
            if augment:
                x = random_shift(x, 2, generator, flip=flip)
            x = x.to(device).contiguous(memory_format=layout)
            y = train_y[idx].to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                logits = model(x)
                loss = F.cross_entropy(logits.float(), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
            step += 1
            batch_loss = float(loss.detach()) * len(y)
            running_loss += batch_loss
            epoch_loss += batch_loss
            running_correct += float((logits.argmax(1) == y).sum())
            running_seen += len(y)
            if step % report_every == 0:
                metrics = {"train/loss": running_loss / running_seen,
                           "train/acc": running_correct / running_seen}
                if grad_groups is not None:
                    metrics.update(grad_norms(grad_groups(model)))
                report(step, metrics)
                running_loss = running_correct = running_seen = 0.0
            report.progress(step, total_steps, f"epoch {epoch}/{epochs}")
        train_seconds += time.perf_counter() - started
        val_loss, val_acc, _ = evaluate(model, val_x, val_y, dataset, bf16=bf16)
        report(step, {"val/loss": val_loss, "val/acc": val_acc, "epoch": epoch})

    test_loss, test_acc, probs = evaluate(model, data.test_x, data.test_y, dataset, bf16=bf16)
    model.to(device="cpu", memory_format=torch.contiguous_format)  # stored plain, on the CPU
    predicted = probs.argmax(1)
    confusion = torch.zeros(10, 10, dtype=torch.int64)
    confusion.index_put_((data.test_y, predicted), torch.ones_like(predicted), accumulate=True)
    wrong = (predicted != data.test_y).nonzero().flatten()
    worst = wrong[probs[wrong, predicted[wrong]].argsort(descending=True)[:16]]
    metrics = {"test/acc": test_acc, "test/loss": test_loss, "val/acc": val_acc,
               "val/loss": val_loss, "train/last_epoch_loss": epoch_loss / n_train,
               "time/infer_ms_per_image": inference_ms_per_image(model, dataset, data.test_x[:1000]),
               "time/images_per_second": epochs * n_train / max(train_seconds, 1e-9)}
    artifacts = {
        "state_dict": model.state_dict(),
        "confusion": confusion,  # (true, predicted) counts over the test set
        "mistakes": {"index": worst, "image": data.test_x[worst], "true": data.test_y[worst],
                     "predicted": predicted[worst], "confidence": probs[worst, predicted[worst]]},
        "classes": data.classes,
    }
    return RunResult(metrics, count_params(model), train_seconds, artifacts)
