"""The yardstick for generated images, shared by the GAN and diffusion pages.

A feature network (our own MNIST / Fashion-MNIST classifier, trained once per dataset with
the shared vision loop and cached on disk) looks at generated and real images. From its
penultimate-layer features we compute the Frechet distance (FID, on our features, so the
numbers are comparable between our pages, not with published Inception-FIDs); from its
softmax we get the class histogram of the samples (mode collapse shows as a skewed
histogram) and their mean confidence. Anchors put a score in context: the FID between two
disjoint sets of real images (the floor) and the FIDs of two naive baselines.
"""
from __future__ import annotations

import functools
import math
import os
import statistics
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from engine import settings
from engine.core import RunSpec
from engine.data.images import STATS, load_images, normalise

FEATURE_VERSION = 2  # bump when the feature network or its training changes
FEATURE_MODEL = ("cnn", "modern")  # the vision page's CNN, default config
# The CNN page's standard training (3 epochs over all 55,000 images): 99.3% MNIST test
# accuracy, about 35 s on 2 cores on first use. (v1 trained 1 epoch on 20,000 images, 98.4%;
# its softmax was so soft that real test digits averaged only 0.975 confidence, v2's 0.993.)
FEATURE_TRAINING = {"epochs": 3, "batch_size": 128, "lr": 3e-3, "weight_decay": 5e-4,
                    "train_limit": 0, "precision": "auto"}


# ---- FID ------------------------------------------------------------------------------
def gaussian_stats(features: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) features -> mean (D,) and covariance (D, D), in float64."""
    f = features.double().numpy()
    return f.mean(0), np.cov(f, rowvar=False)


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray,
                     cov2: np.ndarray) -> float:
    """||mu1 - mu2||^2 + Tr(C1 + C2 - 2 (C1 C2)^(1/2)) between two Gaussians.

    Tr (C1 C2)^(1/2) equals the sum of the square roots of the eigenvalues of the symmetric
    matrix C1^(1/2) C2 C1^(1/2), which eigh computes stably even for singular covariances.
    """
    w1, v1 = np.linalg.eigh(cov1)
    root1 = (v1 * np.sqrt(np.clip(w1, 0, None))) @ v1.T  # C1^(1/2)
    middle = np.linalg.eigvalsh(root1 @ cov2 @ root1)
    trace_root = np.sqrt(np.clip(middle, 0, None)).sum()
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2 * trace_root)


def fid(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    return frechet_distance(*gaussian_stats(features_a), *gaussian_stats(features_b))



def precision_recall(real: torch.Tensor, generated: torch.Tensor, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkaenniemi et al., 2019) of (M, D) generated features
    against (N, D) real ones. Each set's manifold is the union of balls around its points,
    each ball's radius the distance to that point's k-th nearest neighbour in its own set.
    precision: the share of generated points inside the real manifold (are samples
    realistic?); recall: the share of real points inside the generated manifold (is the data
    covered?). Unlike a classifier's confidence, noise far from every real image scores 0."""
    def radii(points: torch.Tensor) -> torch.Tensor:  # (n,) distance to the k-th neighbour
        d = torch.cdist(points, points)  # (n, n); column 0 of the sorted rows is the point itself
        return d.sort(1).values[:, min(k, len(points) - 1)]

    def covered(points: torch.Tensor, centres: torch.Tensor) -> float:
        inside = torch.cdist(points, centres) <= radii(centres)[None, :]  # (n_points, n_centres)
        return float(inside.any(1).double().mean())

    real, generated = real.double(), generated.double()
    return covered(generated, real), covered(real, generated)


def class_entropy(histogram: torch.Tensor) -> float:
    """Entropy of a (C,) class histogram divided by log C: 1 when samples spread evenly over
    the classes, 0 when the classifier puts all of them in one (mode collapse)."""
    p = histogram.double() / histogram.sum()
    nonzero = p[p > 0]
    return float(-(nonzero * nonzero.log()).sum() / math.log(len(p))) + 0.0  # no -0.0

# ---- the feature network ---------------------------------------------------------------
class _Prefixed:
    """Passes the feature network's training reports on under feature/... keys, so they
    do not mix with the generator's own train/loss curve."""

    def __init__(self, report):
        self.report = report

    @property
    def cancelled(self) -> bool:
        return self.report.cancelled

    def __call__(self, step, metrics):
        self.report(step, {f"feature/{k}": v for k, v in metrics.items()})

    def progress(self, done, total, note=""):
        self.report.progress(done, total, f"training the yardstick classifier: {note}")


def _build_feature_model() -> nn.Module:
    from engine.algorithms import cnn

    return cnn.build_model(FEATURE_MODEL[1], None)


@dataclass
class FeatureNet:
    model: nn.Module  # (B, 1, 28, 28) normalised images -> (B, 10) logits
    test_acc: float
    dataset: str

    @torch.inference_mode()
    def features_and_probs(self, images: torch.Tensor,
                           batch: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, 28, 28) uint8 -> penultimate features (N, D) and softmax (N, 10).

        The features are the input of the last Linear layer, caught with a forward hook,
        so any classifier ending in a Linear layer works."""
        last = [m for m in self.model.modules() if isinstance(m, nn.Linear)][-1]
        caught = []
        hook = last.register_forward_hook(lambda m, inputs, out: caught.append(inputs[0]))
        try:
            self.model.eval()
            probs = [self.model(normalise(images[i:i + batch], self.dataset)).softmax(-1)
                     for i in range(0, len(images), batch)]
        finally:
            hook.remove()
        return torch.cat(caught).flatten(1).float(), torch.cat(probs)


def feature_net_path(dataset: str):
    algorithm, variant = FEATURE_MODEL
    return (settings.data_dir() / "feature_nets"
            / f"{dataset}-{algorithm}-{variant}-v{FEATURE_VERSION}.pt")


_TRAINED: dict[str, dict] = {}  # dataset -> saved dict, so a process trains it only once


def feature_net(dataset: str, report=None) -> FeatureNet:
    """The cached classifier for `dataset`; trained (seed 0) and saved on first use.

    The file is written to a temporary name and renamed, so a crash never leaves half a
    network behind, and two processes racing both write a complete (identical) file.
    Within one process a network already trained (under another data folder) is reused."""
    path = feature_net_path(dataset)
    if path.exists():
        saved = torch.load(path, weights_only=True)
    else:
        saved = _TRAINED.get(dataset) or _train_feature_net(dataset, report)
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        torch.save(saved, temp)
        os.replace(temp, path)
    _TRAINED[dataset] = saved
    model = _build_feature_model()
    model.load_state_dict(saved["state_dict"])
    return FeatureNet(model.eval(), float(saved["test_acc"]), dataset)


def _train_feature_net(dataset: str, report=None) -> dict:
    from engine.algorithms.image_classifier import train_classifier
    from engine.core import PrintReport

    algorithm, variant = FEATURE_MODEL
    spec = RunSpec(algorithm, variant, {"dataset": dataset}, seed=0)
    with torch.random.fork_rng():  # leave the caller's random stream untouched
        torch.manual_seed(0)
        model = _build_feature_model()
        result = train_classifier(spec, _Prefixed(report or PrintReport(quiet=True)), model,
                                  **FEATURE_TRAINING)
    return {"state_dict": result.artifacts["state_dict"], "test_acc": result.metrics["test/acc"]}


# ---- scores ----------------------------------------------------------------------------
def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1], (N, 1, 28, 28) or (N, 28, 28) -> (N, 28, 28) uint8."""
    x = images.detach().reshape(-1, 28, 28)
    return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def class_histogram(probs: torch.Tensor) -> torch.Tensor:
    """(N, 10) softmax -> (10,) fraction of samples the classifier puts in each class."""
    return torch.bincount(probs.argmax(1), minlength=probs.shape[1]).float() / len(probs)


def score_samples(images: torch.Tensor, real_features: torch.Tensor, net: FeatureNet) -> dict:
    """Generated (N, 28, 28) uint8 images against the real reference features."""
    features, probs = net.features_and_probs(images)
    histogram = class_histogram(probs)
    return {"fid": fid(features, real_features),
            "confidence": float(probs.max(1).values.mean()),
            "hist_max_dev": float((histogram - 1 / len(histogram)).abs().max()),
            "histogram": histogram.tolist()}


def naive_baselines(dataset: str, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Two baselines of n uint8 images each, fitted to the training images:
    noise  - every pixel drawn from one Gaussian with the data's overall mean and std;
    pixel  - each pixel drawn from its own Gaussian (per-pixel mean and std), independently."""
    train = load_images(dataset).train_x.float()  # (60000, 28, 28)
    mean, std = STATS[dataset]
    noise = torch.randn(n, 28, 28, generator=generator) * std * 255 + mean * 255
    pixel = (torch.randn(n, 28, 28, generator=generator) * train.std(0) + train.mean(0))
    return {"noise": noise.clamp(0, 255).round().to(torch.uint8),
            "pixel": pixel.clamp(0, 255).round().to(torch.uint8)}


@functools.lru_cache(maxsize=4)
def reference(dataset: str, n: int) -> tuple[torch.Tensor, dict[str, float]]:
    """The real reference features (the first n test images) and the anchors at the same n:
    floor  - n real training images (disjoint from the test images) against the reference;
    noise, pixel - the naive baselines above against the reference."""
    data = load_images(dataset)
    net = feature_net(dataset)
    real, _ = net.features_and_probs(data.test_x[:n])
    generator = torch.Generator().manual_seed(1234)
    others = {"floor": data.train_x[torch.randperm(len(data.train_x), generator=generator)[:n]],
              **naive_baselines(dataset, n, generator)}
    anchors = {name: fid(net.features_and_probs(images)[0], real)
               for name, images in others.items()}
    return real, anchors


def evaluate_samples(images: torch.Tensor, dataset: str, report=None) -> dict:
    """Score N generated uint8 images (N real test images as reference) and add anchors.

    Returns eval/fid, eval/confidence, eval/hist_max_dev, eval/fid_floor, eval/fid_noise,
    eval/fid_pixel and feature/test_acc (plain floats) plus `histogram` (a list)."""
    net = feature_net(dataset, report)
    real, anchors = reference(dataset, len(images))
    scores = score_samples(images, real, net)
    out = {f"eval/{k}": v for k, v in scores.items() if k != "histogram"}
    out.update({f"eval/fid_{k}": v for k, v in anchors.items()})
    out["feature/test_acc"] = net.test_acc
    out["histogram"] = scores["histogram"]
    return out


# What every GAN and diffusion run returns, and how the pages label it.
GENERATIVE_METRICS = ("eval/fid", "eval/fid_std", "eval/confidence", "eval/hist_max_dev",
                      "eval/fid_floor", "eval/fid_noise", "eval/fid_pixel", "feature/test_acc",
                      "time/sample_ms_per_image")
GENERATIVE_LABELS = {"eval/fid": "FID", "eval/confidence": "mean confidence",
                     "eval/hist_max_dev": "max class deviation from 10%",
                     "eval/fid_floor": "FID floor (real vs real)",
                     "eval/fid_pixel": "FID per-pixel Gaussian",
                     "eval/fid_noise": "FID Gaussian noise",
                     "feature/test_acc": "yardstick classifier test acc",
                     "time/sample_ms_per_image": "sampling ms / image"}


def summarise_seeds(scores: list[dict], sample_ms: list[float], train_seconds: float) -> dict:
    """Per-seed scores (from evaluate_samples) -> the mean of each, plus the spread and the
    worst seed, which is what the stability criterion looks at."""
    fids = [s["eval/fid"] for s in scores]
    final = {key: statistics.fmean(s[key] for s in scores) for key in scores[0]
             if key != "histogram"}
    final.update({
        "eval/fid_std": statistics.pstdev(fids),
        "eval/fid_worst": max(fids),
        "eval/confidence_worst": min(s["eval/confidence"] for s in scores),
        "eval/hist_max_dev_worst": max(s["eval/hist_max_dev"] for s in scores),
        "time/sample_ms_per_image": statistics.fmean(sample_ms),
        "time/train_seconds_per_seed": train_seconds / len(scores),
    })
    return final
