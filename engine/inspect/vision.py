"""Inspecting finished DNN, CNN and ResNet runs: the restored classifier, its class
probabilities for a visitor's drawing, a CNN's feature maps on a test image, and the
ResNet page's plain-vs-residual sweep over depths."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from engine.algorithms import cnn, dnn, resnet
from engine.data.drawing import BadImage, mnist_style, read_upload  # noqa: F401 (for the CNN page)
from engine.data.images import load_images, normalise

BUILDERS = {"dnn": dnn.build_model, "cnn": cnn.build_model, "resnet": resnet.build_model}


def restore(run: dict, artifacts: dict) -> nn.Module:
    """A finished classifier run's model, rebuilt from its stored state_dict, in eval mode."""
    spec = run["spec"]
    model = BUILDERS[run["algorithm"]](spec["variant"], spec["config"])
    model.load_state_dict(artifacts["state_dict"])
    return model.eval()


@torch.inference_mode()
def predict_probabilities(model: nn.Module, images_uint8: torch.Tensor, dataset: str) -> torch.Tensor:
    """(N, 28, 28) uint8 images -> (N, 10) class probabilities."""
    model.eval()
    return model(normalise(images_uint8, dataset)).softmax(-1)


def drawing_probabilities(models: dict[str, nn.Module], digit: np.ndarray,
                          dataset: str) -> dict[str, np.ndarray]:
    """A prepared (28, 28) uint8 drawing -> each model's (10,) class probabilities."""
    batch = torch.from_numpy(digit)[None]  # (1, 28, 28) uint8
    return {name: predict_probabilities(m, batch, dataset)[0].numpy() for name, m in models.items()}


def test_image(dataset: str, index: int) -> np.ndarray:
    """The dataset's test image `index` as (28, 28) uint8."""
    return load_images(dataset).test_x[index].numpy()


@torch.inference_mode()
def feature_maps(model: nn.Module, image: np.ndarray, dataset: str) -> list[tuple[str, np.ndarray]]:
    """Run one (28, 28) uint8 image through a Sequential CNN layer by layer; return
    (name, (C, H, W)) after every activation and pooling, the pictures each layer hands
    to the next."""
    x = normalise(torch.from_numpy(image)[None], dataset)  # (1, 1, 28, 28)
    model.eval()
    out, conv = [], 0
    for layer in model:
        x = layer(x)
        if isinstance(layer, nn.Conv2d):
            conv += 1
        if x.dim() == 4 and isinstance(layer, (nn.ReLU, nn.MaxPool2d)):
            kind = "ReLU" if isinstance(layer, nn.ReLU) else "max-pool"
            out.append((f"conv {conv} + {kind}: {x.shape[1]} x {x.shape[2]} x {x.shape[3]}",
                        x[0].numpy().copy()))
    return out


def depth_sweep(runs: list[dict], config: dict) -> list[dict]:
    """Of stored runs, those trained exactly like `config` except for their depth: the
    page's plain-vs-residual comparison across depths under the same budget."""
    def rest(c: dict) -> dict:
        return {k: v for k, v in c.items() if k != "depth"}

    return sorted((r for r in runs if rest(r["spec"]["config"]) == rest(config)),
                  key=lambda r: (r["spec"]["config"]["depth"], r["variant"]))
