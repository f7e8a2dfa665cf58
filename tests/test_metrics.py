"""Known values for the generative yardstick: FID's closed form, histograms, pixel mapping,
and a sanity order of the anchors on real MNIST features."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import metrics
from engine.algorithms import yardstick


def test_identical_sets_give_zero_fid():
    features = torch.randn(3000, 16, generator=torch.Generator().manual_seed(0))
    assert metrics.fid(features, features) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_matches_the_closed_form_for_diagonal_gaussians():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, -1.0])
    var1, var2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    # For commuting covariances, Tr(C1 + C2 - 2 (C1 C2)^1/2) = sum (sqrt v1 - sqrt v2)^2.
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(var1) - np.sqrt(var2)) ** 2).sum()
    got = metrics.frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2))
    assert got == pytest.approx(expected, rel=1e-9)
    assert expected == pytest.approx(1 + 9 + 4 + 1)


def test_fid_of_two_shifted_gaussian_samples_is_near_the_closed_form():
    g = torch.Generator().manual_seed(1)
    d, shift, scale = 4, 1.5, 2.0
    a = torch.randn(40000, d, generator=g)
    b = torch.randn(40000, d, generator=g) * scale + shift
    expected = d * shift**2 + d * (scale - 1) ** 2  # 9 + 4
    assert metrics.fid(a, b) == pytest.approx(expected, rel=0.03)


def test_class_histogram_and_pixel_mapping():
    probs = torch.tensor([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
    assert metrics.class_histogram(probs).tolist() == [0.5, 0.25, 0.25]
    pixels = metrics.to_uint8(torch.tensor([-1.0, 0.0, 1.0, 3.0] + [0.0] * 780))
    assert pixels.shape == (1, 28, 28) and pixels.dtype == torch.uint8
    assert pixels.flatten()[:4].tolist() == [0, 128, 255, 255]


@pytest.mark.slow
def test_feature_net_is_cached_on_disk_and_anchors_are_ordered(store_dir):
    net = yardstick.feature_net("mnist")
    assert yardstick.feature_net_path("mnist").exists()  # written for the next process
    assert net.test_acc > 0.97
    features, probs = net.features_and_probs(torch.zeros(5, 28, 28, dtype=torch.uint8))
    assert features.shape[0] == 5 and probs.shape == (5, 10)
    real, anchors = yardstick.reference("mnist", 300)
    assert len(real) == 300
    # Real digits are far closer to real digits than either naive baseline is.
    assert anchors["fid_floor"] * 3 < min(anchors["fid_noise"], anchors["fid_pixel"])
    # ... and inside their manifold, where noise is not
    assert anchors["precision_floor"] > 0.5 and anchors["recall_floor"] > 0.5
    assert anchors["precision_noise"] == 0.0
