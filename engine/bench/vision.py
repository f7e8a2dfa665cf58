"""Shared pieces of the vision benchmarks: the usual DataLoader training loop (the baseline),
our loop measured through the real train_classifier, and inference speed per variant.

The baseline is the loop of pytorch/examples' mnist/main.py: a torchvision dataset with
ToTensor + Normalize transforms, a shuffling DataLoader, one optimiser step per batch.
Both loops train the same model with the same batch size and the same optimiser (AdamW),
so the only differences are how a batch is made (and, for ours, the arithmetic precision).
"""
from __future__ import annotations

import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from engine.algorithms.image_classifier import inference_ms_per_image, train_classifier
from engine.core import PrintReport, RunSpec
from engine.data import DataMissing, search_roots
from engine.data.images import DATASETS, STATS, load_images


def torchvision_dataset(name: str, transform):
    """The training split as the usual torchvision dataset, from the first root holding it."""
    import torchvision

    cls = getattr(torchvision.datasets, DATASETS[name])
    for root in search_roots():
        try:
            return cls(str(root), train=True, download=False, transform=transform)
        except RuntimeError:
            continue
    raise DataMissing(DATASETS[name], [r / DATASETS[name] / "raw" for r in search_roots()])


def dataloader_images_per_second(make_model: Callable[[], nn.Module], dataset: str,
                                 batch_size: int, images: int, lr: float = 1e-3,
                                 precision: str = "fp32") -> float:
    """Train on `images` images with the usual DataLoader loop; return images/s.
    precision 'bf16': the usual way to ask for it, bf16 autocast with channels-last
    tensors, as our loop does (weights stay float32)."""
    from torchvision import transforms

    mean, std = STATS[dataset]
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((mean,), (std,))])
    loader = torch.utils.data.DataLoader(torchvision_dataset(dataset, transform),
                                         batch_size=batch_size, shuffle=True)
    bf16 = precision == "bf16"
    layout = torch.channels_last if bf16 else torch.contiguous_format
    model = make_model().to(memory_format=layout)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    seen = 0
    start = time.perf_counter()
    for x, y in loader:  # x: (B, 1, 28, 28) float, made image by image by PIL + ToTensor
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(x.contiguous(memory_format=layout))
        loss = F.cross_entropy(logits.float(), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        seen += len(y)
        if seen >= images:
            break
    return seen / (time.perf_counter() - start)


def our_loop(model: nn.Module, dataset: str, batch_size: int, images: int, epochs: int = 1,
             lr: float = 1e-3, precision: str = "fp32", seed: int = 0, **options):
    """Train with the real train_classifier on the first `images` training images.
    Returns the RunResult (metrics hold time/images_per_second, test/acc; train_seconds)."""
    spec = RunSpec("bench", "bench", {"dataset": dataset}, seed=seed)
    torch.manual_seed(seed)
    return train_classifier(spec, PrintReport(quiet=True), model, epochs=epochs,
                            batch_size=batch_size, lr=lr, train_limit=images,
                            precision=precision, **options)


def inference_table(models: dict[str, nn.Module], dataset: str, n: int = 1000) -> dict[str, float]:
    """Variant -> ms per image over a batch of n test images (float32, eval mode)."""
    sample = load_images(dataset).test_x[:n]
    return {name: inference_ms_per_image(model, dataset, sample) for name, model in models.items()}


def ratio_line(label: str, ours: float, baseline: float) -> str:
    return (f"{label}: ours {ours:,.0f} images/s, DataLoader loop {baseline:,.0f} images/s, "
            f"ratio {ours / baseline:.2f}x")

