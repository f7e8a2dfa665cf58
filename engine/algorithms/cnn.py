"""CNN: convolutional networks on MNIST / Fashion-MNIST, against the MLP baseline.

Three variants share one loop (image_classifier.train_classifier), so their numbers compare
with each other and with the DNN page:
  mlp     - the 2-hidden-layer MLP of the DNN page (dnn.build_model("mlp", ...)), the baseline;
  lenet5  - LeCun et al.'s LeNet-5 layout (6 and 16 filters of 5x5, then 120-84-10), with
            ReLU and max-pooling in place of the original squashing units and subsampling;
  modern  - three conv blocks (3x3 conv, batch norm, ReLU, 2x2 max-pool) and dropout.

`build_model("modern", None)` with the default config is also the feature network other
pages use (everything but its last layer maps an image to a 1152-vector); keep it stable.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from engine.algorithms import dnn
from engine.algorithms.common import precision_setting
from engine.algorithms.image_classifier import train_classifier
from engine.core import COSTS_MORE, COSTS_MORE_ZERO_ALL, Card, RunResult, setting


@dataclass(frozen=True)
class Config:
    dataset: str = setting("mnist", "image dataset", choices=("mnist", "fashion_mnist"))
    epochs: int = setting(3, "passes over the training images", lo=1, hi=100, cost=COSTS_MORE)
    batch_size: int = setting(128, "images per gradient step", lo=8, hi=4096)
    lr: float = setting(3e-3, "peak learning rate (AdamW, one-cycle schedule)", lo=1e-5, hi=1.0)
    weight_decay: float = setting(5e-4, "AdamW weight decay", lo=0.0, hi=1.0)
    width: int = setting(32, "filters in the modern CNN's first block (doubling per block)",
                         lo=4, hi=128, cost=COSTS_MORE)
    dropout: float = setting(0.3, "dropout before the last layer (modern CNN, MLP)",
                             lo=0.0, hi=0.9)
    hidden: int = setting(256, "units in each hidden layer of the MLP baseline", lo=8, hi=4096,
                          cost=COSTS_MORE)
    augment: bool = setting(False, "random shifts of up to 2 pixels (and mirroring for "
                                   "Fashion-MNIST) while training", cost=COSTS_MORE)
    precision: str = precision_setting()
    train_limit: int = setting(0, "use only the first N training images (0 = all 55,000)",
                               lo=0, hi=55000, cost=COSTS_MORE_ZERO_ALL)


def conv_block(c_in: int, c_out: int) -> list[nn.Module]:
    """(B, c_in, H, W) -> (B, c_out, H/2, W/2)."""
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
            nn.MaxPool2d(2)]


def build_model(variant: str, config: dict | None = None) -> nn.Module:
    """(B, 1, 28, 28) images -> (B, 10) logits. config=None means the default Config."""
    config = config or asdict(Config())
    if variant == "mlp":
        return dnn.build_model("mlp", config)
    if variant == "lenet5":
        return nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),  # (B, 6, 14, 14)
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),  # (B, 16, 5, 5)
            nn.Flatten(),  # (B, 400)
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    if variant == "modern":
        w = config["width"]
        return nn.Sequential(
            *conv_block(1, w),  # (B, w, 14, 14)
            *conv_block(w, 2 * w),  # (B, 2w, 7, 7)
            *conv_block(2 * w, 4 * w),  # (B, 4w, 3, 3)
            nn.Flatten(),  # (B, 36w): the feature vector
            nn.Dropout(config["dropout"]),
            nn.Linear(36 * w, 10))
    raise ValueError(f"unknown cnn variant {variant!r}")


def first_layer_filters(model: nn.Module) -> torch.Tensor:
    """What the first layer looks for, as images: (K, k, k) conv kernels, or for the MLP
    the incoming weights of its first 32 hidden units reshaped to (32, 28, 28)."""
    first = next(m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
    weight = first.weight.detach().float()
    if isinstance(first, nn.Conv2d):
        return weight[:, 0].clone()  # (out, k, k): one input channel
    return weight[:32].reshape(-1, 28, 28).clone()


def run(spec, report) -> RunResult:
    cfg = spec.config
    model = build_model(spec.variant, cfg)
    result = train_classifier(spec, report, model, epochs=cfg["epochs"],
                              batch_size=cfg["batch_size"], lr=cfg["lr"],
                              weight_decay=cfg["weight_decay"], train_limit=cfg["train_limit"],
                              augment=cfg["augment"], precision=cfg["precision"])
    result.artifacts["filters"] = first_layer_filters(model)
    return result


EXPLANATION = """
**Principle.** A convolutional layer slides a small learned filter (here 3x3 or 5x5
pixels) over the whole image and records how strongly each patch matches it. The same few
weights are reused at every position, so a stroke detector learned in one corner works
everywhere, and the layer has a handful of parameters where a fully connected layer
would need hundreds of thousands. Pooling keeps the strongest response in each 2x2 window,
halving the resolution, so the next layer's filters see a wider area. Stacked, the layers
go from edges to strokes to parts of digits; a small fully connected head turns the final
feature maps into class scores.

**Training.** The same as for the MLP: cross-entropy loss, back-propagation (through the
convolutions, which sums each filter's gradient over all positions), AdamW with a
one-cycle learning-rate schedule. The modern variant adds batch normalisation, which
rescales each channel's activations over the batch so that larger learning rates stay
stable, and dropout, which randomly silences units so the network cannot rely on any
single one. Random shifts of a couple of pixels are a cheap, label-preserving augmentation.

**Strengths.** Built-in assumptions that suit images: nearby pixels matter together and a
pattern means the same thing wherever it appears. That gives better accuracy with far
fewer parameters than an MLP, and robustness to small shifts.

**Weaknesses.** Convolutions see only local windows; global context needs depth or pooling.
The built-in assumptions fit grids (images, spectrograms) and do not carry over to sets,
graphs or long sequences. Deep stacks of plain convolutions become hard to train (see the
ResNet page).

**Uses.** Image classification, object detection and segmentation, medical imaging, OCR
and document scanning, audio spectrograms, and as the feature extractor inside many larger
systems (for instance the image features behind FID scores on the generative pages).
"""

CARD = Card(
    code=(build_model, train_classifier),
    key="cnn",
    title="CNN (convolutional network)",
    family="Vision",
    summary="Small filters shared across the image learn local patterns, from edges to shapes.",
    explanation=EXPLANATION,
    variants={
        "mlp": "the DNN page's 2-hidden-layer MLP (baseline: no convolutions)",
        "lenet5": "LeNet-5: two 5x5 conv layers (6, 16 filters) and a 120-84-10 head",
        "modern": "three 3x3 conv blocks with batch norm and max-pool, dropout, linear head",
    },
    presets={
        "quick": {"epochs": 1, "train_limit": 6000, "width": 16, "hidden": 128},
        "standard": {},
        "full": {"epochs": 20, "augment": True},
    },
    metrics=("test/acc", "test/loss", "val/acc", "val/loss", "train/last_epoch_loss",
             "time/infer_ms_per_image", "time/images_per_second"),
    headline="test/acc",
    headline_label="test accuracy",
    higher_is_better=True,
    config_cls=Config,
    run=run,
)
