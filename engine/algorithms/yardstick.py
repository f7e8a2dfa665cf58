"""The yardstick for generated images, shared by the GAN and diffusion algorithms.

A feature network (our own MNIST / Fashion-MNIST classifier, trained once per dataset with
the shared vision loop and cached on disk) looks at generated and real images. From its
penultimate-layer features we compute the Frechet distance (FID, on our features, so the
numbers are comparable between our pages, not with published Inception-FIDs); from its
softmax we get the class histogram of the samples (mode collapse shows as a skewed
histogram), its entropy and the samples' mean confidence. Confidence alone misleads: the
classifier was ~1.0 sure of near-noise diffusion samples (FID 3240). Precision and recall in
the same feature space cannot be fooled that way: noise lies outside the real images'
manifold, so its precision is 0. Anchors put every score in context: the same scores for
disjoint real images (the floor: what a perfect generator gets) and two naive baselines.
"""
from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from engine import settings
from engine.algorithms import cnn
from engine.algorithms.common import save_atomically, trained_once
from engine.algorithms.image_classifier import train_classifier
from engine.core import PrintReport, RunSpec
from engine.data.images import STATS, load_images, normalise
from engine.metrics import class_entropy, class_histogram, fid, precision_recall

FEATURE_VERSION = 2  # bump when the feature network or its training changes
FEATURE_MODEL = ("cnn", "modern")  # the vision page's CNN, default config
# The CNN page's standard training (3 epochs over all 55,000 images): 99.3% MNIST test
# accuracy, about 35 s on 2 cores on first use. (v1 trained 1 epoch on 20,000 images, 98.4%;
# its softmax was so soft that real test digits averaged only 0.975 confidence, v2's 0.993.)
FEATURE_TRAINING = {"epochs": 3, "batch_size": 128, "lr": 3e-3, "weight_decay": 5e-4,
                    "train_limit": 0, "precision": "auto"}


# ---- the feature network ---------------------------------------------------------------
class _Prefixed:
    """Passes the feature network's training reports on under feature/... keys, so they
    do not mix with the generator's own train/loss curve, and shows it as a step of its
    own: the progress bar is the preparation's own fraction, the note says what it is and
    about how long it has left (from its rate so far)."""

    def __init__(self, report):
        self.report = report
        self.started = time.perf_counter()

    @property
    def cancelled(self) -> bool:
        return self.report.cancelled

    def __call__(self, step, metrics):
        self.report(step, {f"feature/{k}": v for k, v in metrics.items()})

    def progress(self, done, total, note=""):
        elapsed = time.perf_counter() - self.started
        eta = f", about {elapsed * (total - done) / done:.0f} s left" if done and total else ""
        self.report.progress(done, total, "preparing (once per data folder): training the "
                                          f"yardstick classifier, {note}{eta}")


def _build_feature_model() -> nn.Module:
    return cnn.build_model(FEATURE_MODEL[1], None)


@dataclass
class FeatureNet:
    model: nn.Module  # (B, 1, 28, 28) normalised images -> (B, 10) logits
    test_acc: float
    dataset: str
    prep_seconds: float = 0.0  # what this call spent training it (0: it was on disk)

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
    """The cached classifier for `dataset` (from the shipped results, else the data folder);
    trained (seed 0) and saved on first use.

    The file is written to a temporary name and renamed, so a crash never leaves half a
    network behind, and two processes racing both write a complete (identical) file.
    Within one process a network already trained (under another data folder) is reused."""
    path = feature_net_path(dataset)
    started, prep_seconds = time.perf_counter(), 0.0
    # The shipped network first: every FID, precision and recall then uses the very network
    # the shipped runs were scored with (one trained here, at other thread counts, differs a
    # little: a real-vs-real FID floor of 52.5 instead of 52.7).
    found = settings.shipped_file(f"feature_nets/{path.name}") or (path if path.exists() else None)
    if found is not None:
        saved = torch.load(found, weights_only=True)
    else:
        with trained_once(path):  # two jobs at once (GAN and diffusion) train it once
            if path.exists():
                saved = torch.load(path, weights_only=True)
            else:
                saved = _TRAINED.get(dataset) or _train_feature_net(dataset, report)
                save_atomically(saved, path)
                prep_seconds = time.perf_counter() - started
    _TRAINED[dataset] = saved
    model = _build_feature_model()
    model.load_state_dict(saved["state_dict"])
    return FeatureNet(model.eval(), float(saved["test_acc"]), dataset, prep_seconds)


def _train_feature_net(dataset: str, report=None) -> dict:
    algorithm, variant = FEATURE_MODEL
    spec = RunSpec(algorithm, variant, {"dataset": dataset}, seed=0)
    with torch.random.fork_rng():  # leave the caller's random stream untouched
        torch.manual_seed(0)
        model = _build_feature_model()
        result = train_classifier(spec, _Prefixed(report or PrintReport(quiet=True)), model,
                                  **FEATURE_TRAINING)
    return {"state_dict": result.artifacts["state_dict"], "test_acc": result.metrics["test/acc"]}


def score_samples(images: torch.Tensor, real_features: torch.Tensor, net: FeatureNet) -> dict:
    """Generated (N, 28, 28) uint8 images against the real reference features."""
    features, probs = net.features_and_probs(images)
    histogram = class_histogram(probs)
    precision, recall = precision_recall(real_features, features)
    return {"fid": fid(features, real_features), "precision": precision, "recall": recall,
            "class_entropy": class_entropy(histogram),
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
    """The real reference features (the first n test images) and the anchors at the same n,
    as {"fid_floor": ..., "precision_floor": ..., "recall_floor": ..., "fid_noise": ...}:
    floor  - n real training images (disjoint from the test images) against the reference;
    noise, pixel - the naive baselines above against the reference."""
    data = load_images(dataset)
    net = feature_net(dataset)
    real, _ = net.features_and_probs(data.test_x[:n])
    generator = torch.Generator().manual_seed(1234)
    others = {"floor": data.train_x[torch.randperm(len(data.train_x), generator=generator)[:n]],
              **naive_baselines(dataset, n, generator)}
    anchors = {}
    for name, images in others.items():
        features = net.features_and_probs(images)[0]
        anchors[f"fid_{name}"] = fid(features, real)
        anchors[f"precision_{name}"], anchors[f"recall_{name}"] = precision_recall(real, features)
    return real, anchors


def evaluate_samples(images: torch.Tensor, dataset: str, report=None,
                     step_note: Callable[[str], None] | None = None) -> dict:
    """Score N generated uint8 images (N real test images as reference) and add anchors.
    step_note(text), when given, announces each step (the caller's progress line): the
    reference alone can take tens of seconds the first time in a process.

    Returns eval/fid, eval/precision, eval/recall, eval/class_entropy, eval/confidence,
    eval/hist_max_dev, the anchors eval/{fid,precision,recall}_{floor,noise,pixel},
    feature/test_acc and prep/seconds (plain floats) plus `histogram`."""
    announce = step_note or (lambda text: None)
    announce("loading the yardstick classifier")
    net = feature_net(dataset, report)
    announce(f"reference: {len(images)} real images and the anchors")
    real, anchors = reference(dataset, len(images))
    announce(f"scoring {len(images)} samples")
    scores = score_samples(images, real, net)
    out = {f"eval/{k}": v for k, v in scores.items() if k != "histogram"}
    out.update({f"eval/{k}": v for k, v in anchors.items()})
    out["feature/test_acc"] = net.test_acc
    out["prep/seconds"] = net.prep_seconds  # apart from the generator's training time
    out["histogram"] = scores["histogram"]
    return out
