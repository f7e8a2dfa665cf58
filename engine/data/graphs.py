"""Planetoid citation graphs (Cora, CiteSeer, PubMed) through PyG's `Planetoid` class.

Planetoid writes a `processed/` folder next to `raw/`, and the mirrors are read-only, so
the mirror's raw files are copied into TOP10_DATA_DIR/<Name>/raw and Planetoid processes
them there. With neither a mirror copy nor a network, DataMissing says where we looked.
"""
from __future__ import annotations

import fcntl
import functools
import shutil
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from engine import settings
from engine.data import download

DATASETS = {"cora": "Cora", "citeseer": "CiteSeer", "pubmed": "PubMed"}
RAW_PARTS = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")


@dataclass(frozen=True)
class GraphData:
    name: str
    x: torch.Tensor  # (N, F) float32 bag-of-words features as stored (0/1 or TF-IDF), dense
    edge_index: torch.Tensor  # (2, E) int64, both directions of every citation, no self-loops
    y: torch.Tensor  # (N,) int64 class of each paper
    train_mask: torch.Tensor  # (N,) bool: the public split, 20 labelled nodes per class
    val_mask: torch.Tensor  # (N,) bool: 500 nodes
    test_mask: torch.Tensor  # (N,) bool: 1,000 nodes
    num_classes: int

    @property
    def num_nodes(self) -> int:
        return self.y.numel()


def raw_names(name: str) -> list[str]:
    return [f"ind.{DATASETS[name].lower()}.{part}" for part in RAW_PARTS]


@contextmanager
def _locked(path: Path):
    """Hold an exclusive lock on `path` so two processes never process one dataset at once."""
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@functools.lru_cache(maxsize=3)
def load_planetoid(name: str) -> GraphData:
    """Copy raw files from the first mirror that has them, then let Planetoid process (or,
    with a network, download) in the writable data folder."""
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {name!r}")
    folder = DATASETS[name]
    writable = settings.data_dir()
    target = writable / folder / "raw"
    searched = [m / folder / "raw" for m in settings.data_mirrors()] + [target]
    with warnings.catch_warnings():  # torch_geometric's import-time deprecation notes
        warnings.simplefilter("ignore")
        from torch_geometric.datasets import Planetoid
    processed = writable / folder / "processed" / "data.pt"
    if processed.is_file() and all((target / f).is_file() for f in raw_names(name)):
        data = Planetoid(str(writable), folder)[0]  # processed already: reads only, no lock
        return GraphData(name, data.x, data.edge_index, data.y, data.train_mask, data.val_mask,
                         data.test_mask, int(data.y.max()) + 1)
    writable.mkdir(parents=True, exist_ok=True)
    with _locked(writable / f".{folder}.lock"):
        for mirror in settings.data_mirrors():
            source = mirror / folder / "raw"
            if all((source / f).is_file() for f in raw_names(name)):
                target.mkdir(parents=True, exist_ok=True)
                for f in raw_names(name):
                    if not (target / f).is_file():
                        shutil.copyfile(source / f, target / f)
                break
        if all((target / f).is_file() for f in raw_names(name)):
            data = Planetoid(str(writable), folder)[0]  # processes once, then reads processed/
        else:
            with download(folder, searched):  # no network, a moved URL, a full disk...
                try:
                    data = Planetoid(str(writable), folder)[0]  # downloads into raw/ first
                except BaseException:
                    shutil.rmtree(writable / folder, ignore_errors=True)  # no half download left
                    raise
    return GraphData(name, data.x, data.edge_index, data.y, data.train_mask, data.val_mask,
                     data.test_mask, int(data.y.max()) + 1)
