"""Pure maths on results, shared by the algorithms and the pages: the Frechet distance
(FID) between two feature sets, class histograms, seed summaries, image conversion. It
imports no algorithm and no data: the generative yardstick that trains a classifier to
produce the features lives in engine/algorithms/yardstick.py."""
from __future__ import annotations

import math
import statistics

import numpy as np
import torch


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


# ---- scores ----------------------------------------------------------------------------
def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1], (N, 1, 28, 28) or (N, 28, 28) -> (N, 28, 28) uint8."""
    x = images.detach().reshape(-1, 28, 28)
    return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


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


def class_histogram(probs: torch.Tensor) -> torch.Tensor:
    """(N, 10) softmax -> (10,) fraction of samples the classifier puts in each class."""
    return torch.bincount(probs.argmax(1), minlength=probs.shape[1]).float() / len(probs)


# What every GAN and diffusion run returns, and how the pages label it.
GENERATIVE_METRICS = ("eval/fid", "eval/fid_std", "eval/precision", "eval/recall",
                      "eval/class_entropy", "eval/confidence", "eval/hist_max_dev",
                      "eval/fid_floor", "eval/precision_floor", "eval/recall_floor",
                      "eval/fid_noise", "eval/fid_pixel", "feature/test_acc",
                      "time/sample_ms_per_image")
GENERATIVE_LABELS = {"eval/fid": "FID",
                     "eval/precision": "precision (share of samples among real images)",
                     "eval/recall": "recall (share of real images the samples cover)",
                     "eval/class_entropy": "class entropy (1 = every digit equally often)",
                     "eval/precision_floor": "precision of real images (the anchor to reach)",
                     "eval/recall_floor": "recall of real images (the anchor to reach)",
                     "eval/confidence": "mean confidence",
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
             if key not in ("histogram", "prep/seconds")}
    final.update({
        "prep/seconds": sum(s.get("prep/seconds", 0.0) for s in scores),  # apart from training
        "eval/fid_std": statistics.pstdev(fids),
        "eval/fid_worst": max(fids),
        "eval/confidence_worst": min(s["eval/confidence"] for s in scores),
        "eval/hist_max_dev_worst": max(s["eval/hist_max_dev"] for s in scores),
        "time/sample_ms_per_image": statistics.fmean(sample_ms),
        "time/train_seconds_per_seed": train_seconds / len(scores),
    })
    return final
