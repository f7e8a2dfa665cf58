"""Training helpers several algorithm families share (vision, generative, sequences, graphs,
control), kept apart from any one of them so no algorithm imports another's module for
them: parameter counts, the bf16/fp32 precision setting, weight averaging, atomic saves,
a lock for a network that several runs share."""
from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
from torch import nn

from engine import settings
from engine.core import setting

PRECISIONS = ("auto", "bf16", "fp32")


def precision_setting(task: str | None = None):
    """The `precision` config field the convolutional algorithms and the Transformer share;
    task: the one task of a two-task card that uses it (its form shows it for that task only)."""
    where = {"task": task} if task else {}
    return setting("auto", f"{task + ': ' if task else ''}training arithmetic: bf16 autocast "
                   "where the training device has it natively (auto), or always bf16 / fp32",
                   choices=PRECISIONS, **where)


def resolve_precision(precision: str, device: torch.device | None = None) -> str:
    """'auto' -> 'bf16' where the device has native bfloat16 (a CPU where oneDNN says so, a
    GPU where CUDA does), else 'fp32'. Emulated bfloat16 is slower than float32, so it is
    never chosen by 'auto'. device: the training device (default: TOP10_DEVICE's)."""
    if precision != "auto":
        return precision
    device = device or settings.device()
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    native = torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    return "bf16" if native else "fp32"


def count_params(*models: nn.Module) -> int:
    """Every weight of the given networks, frozen ones included (a GAN's or a diffusion
    model's averaged copy is frozen but is the network that samples)."""
    return sum(p.numel() for model in models for p in model.parameters())


def update_average(average: nn.Module, model: nn.Module, decay: float, updates: int) -> None:
    """average <- d * average + (1 - d) * model, weight by weight, with d = decay capped at
    (1 + updates) / (10 + updates): a short memory over the first updates, so the average
    does not linger on the random start. Batch-norm statistics are copied, since they
    describe the activations of the current weights. decay = 0 keeps the last weights."""
    d = min(decay, (1 + updates) / (10 + updates))
    with torch.no_grad():
        for p_avg, p in zip(average.parameters(), model.parameters()):
            p_avg.lerp_(p, 1 - d)
        for b_avg, b in zip(average.buffers(), model.buffers()):
            b_avg.copy_(b)


def weights_to_keep(model: nn.Module) -> dict[str, torch.Tensor]:
    """A state dict to keep with a run for the pages to sample from, on the CPU, its float
    tensors in float16: half the size, and load_state_dict casts them back to the model's
    float32 (the run's scores were computed before, with the float32 weights)."""
    return {k: v.detach().cpu().half() if v.is_floating_point() else v.detach().cpu()
            for k, v in model.state_dict().items()}


@contextlib.contextmanager
def trained_once(path: Path, waiting: Callable[[], None] | None = None,
                 poll_seconds: float = 1.0) -> Iterator[None]:
    """Hold an exclusive lock on `path` + '.lock' while checking for, or training and saving,
    a network that several runs share (diffusion's cosine net for DDPM and DDIM sampling,
    the yardstick): with two jobs at once the second waits, then loads what the first
    saved, instead of training it too. waiting() is called about every poll_seconds while
    another process holds it (a run's progress note; a cancel raises there). Without
    fcntl (Windows) there is no lock: at worst both train it."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if waiting:
                    waiting()
                time.sleep(poll_seconds)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def save_atomically(obj, path: Path) -> None:
    """torch.save to a temporary name, then rename: a crash never leaves half a file, and
    two processes racing both leave a complete one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(obj, temp)
    os.replace(temp, path)
