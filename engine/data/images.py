"""MNIST and Fashion-MNIST as in-memory uint8 tensors, read once per process.

torchvision's dataset classes find the raw IDX files (or download them); we keep only
their `.data` / `.targets` tensors so a training batch is one slice, not 128 PIL calls.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from engine import settings
from engine.data import download, search_roots

DATASETS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}
CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Ankle boot"],
}
# Per-dataset pixel mean and std over the training set (computed once, rounded).
STATS = {"mnist": (0.1307, 0.3081), "fashion_mnist": (0.2860, 0.3530)}


@dataclass(frozen=True)
class ImageData:
    name: str
    train_x: torch.Tensor  # (60000, 28, 28) uint8
    train_y: torch.Tensor  # (60000,) int64
    test_x: torch.Tensor  # (10000, 28, 28) uint8
    test_y: torch.Tensor  # (10000,) int64
    classes: list[str]


def _torchvision_class(name: str):
    import torchvision

    return getattr(torchvision.datasets, DATASETS[name])


@functools.lru_cache(maxsize=2)
def load_images(name: str) -> ImageData:
    """Look in each mirror, then the data folder, then download into the data folder."""
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {name!r}")
    cls = _torchvision_class(name)
    splits = None
    for root in search_roots():
        try:
            splits = [cls(str(root), train=t, download=False) for t in (True, False)]
            break
        except RuntimeError:  # "Dataset not found": try the next place
            continue
    if splits is None:
        writable = settings.data_dir()
        with download(DATASETS[name], [r / DATASETS[name] / "raw" for r in search_roots()]):
            writable.mkdir(parents=True, exist_ok=True)
            splits = [cls(str(writable), train=t, download=True) for t in (True, False)]
    train, test = splits
    return ImageData(name, train.data.clone(), train.targets.clone(), test.data.clone(),
                     test.targets.clone(), CLASS_NAMES[name])


def normalise(images_uint8: torch.Tensor, dataset: str) -> torch.Tensor:
    """(N, 28, 28) uint8 -> (N, 1, 28, 28) float32, standardised with the dataset stats."""
    mean, std = STATS[dataset]
    return ((images_uint8.float() / 255.0 - mean) / std).unsqueeze(1)
