"""ResNet: residual learning against a plain CNN of the same depth, on MNIST / Fashion-MNIST.

CIFAR-style networks (He et al. 2016, section 4.2) adapted to 28x28: a 3x3 stem, three
stages of n two-conv blocks at 28x28, 14x14 and 7x7 with width, 2x and 4x filters, global
average pooling and a linear layer: depth = 6n + 2 weighted layers (20, 32, 44, 56, ...).
The two variants differ in one switch only:
  plain     - each block is conv-BN-ReLU-conv-BN-ReLU;
  residual  - each block adds its input back before the last ReLU (a 1x1 projection where
              the shape changes), so a block only has to learn a correction to identity.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.algorithms.common import precision_setting
from engine.algorithms.image_classifier import train_classifier
from engine.core import COSTS_MORE, COSTS_MORE_ZERO_ALL, Card, RunResult, setting

DEPTHS = (8, 14, 20, 32, 44, 56)


@dataclass(frozen=True)
class Config:
    dataset: str = setting("mnist", "image dataset", choices=("mnist", "fashion_mnist"))
    depth: int = setting(56, "weighted layers, 6n + 2 (n blocks per stage)", choices=DEPTHS, cost=COSTS_MORE)
    width: int = setting(16, "filters in the first stage (x2 in the second, x4 in the third)",
                         lo=4, hi=64, cost=COSTS_MORE)
    epochs: int = setting(2, "passes over the training images", lo=1, hi=100, cost=COSTS_MORE)
    batch_size: int = setting(128, "images per gradient step", lo=8, hi=4096)
    lr: float = setting(0.1, "peak learning rate (SGD with Nesterov momentum 0.9, one-cycle)",
                        lo=1e-5, hi=2.0)
    weight_decay: float = setting(5e-4, "SGD weight decay", lo=0.0, hi=1.0)
    augment: bool = setting(False, "random shifts of up to 2 pixels (and mirroring for "
                                   "Fashion-MNIST) while training", cost=COSTS_MORE)
    precision: str = precision_setting()
    train_limit: int = setting(0, "use only the first N training images (0 = all 55,000)",
                               lo=0, hi=55000, cost=COSTS_MORE_ZERO_ALL)


class Block(nn.Module):
    """Two 3x3 convs. (B, c_in, H, W) -> (B, c_out, H/stride, W/stride)."""

    def __init__(self, c_in: int, c_out: int, stride: int, residual: bool):
        super().__init__()
        self.residual = residual
        self.branch = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out))
        self.shortcut = nn.Identity()
        if residual and (stride != 1 or c_in != c_out):  # the shape changes: 1x1 projection
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                          nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.branch(x)
        if self.residual:
            out = out + self.shortcut(x)  # F(x) + x: the branch learns only the residual F
        return F.relu(out)


class Net(nn.Module):
    def __init__(self, depth: int, width: int, residual: bool):
        super().__init__()
        if (depth - 2) % 6:
            raise ValueError(f"depth must be 6n + 2, got {depth}")
        n = (depth - 2) // 6
        w = width
        self.stem = nn.Sequential(nn.Conv2d(1, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w),
                                  nn.ReLU())  # (B, w, 28, 28)

        def stage(c_in: int, c_out: int, stride: int) -> nn.Sequential:
            return nn.Sequential(*[Block(c_in if i == 0 else c_out, c_out,
                                         stride if i == 0 else 1, residual) for i in range(n)])

        self.stage1 = stage(w, w, 1)  # (B, w, 28, 28)
        self.stage2 = stage(w, 2 * w, 2)  # (B, 2w, 14, 14)
        self.stage3 = stage(2 * w, 4 * w, 2)  # (B, 4w, 7, 7)
        self.head = nn.Linear(4 * w, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stage3(self.stage2(self.stage1(self.stem(x))))
        return self.head(x.mean((2, 3)))  # global average pool: (B, 4w) -> (B, 10)


def build_model(variant: str, config: dict) -> Net:
    """(B, 1, 28, 28) images -> (B, 10) logits."""
    if variant not in ("plain", "residual"):
        raise ValueError(f"unknown resnet variant {variant!r}")
    return Net(config["depth"], config["width"], residual=variant == "residual")


def stages(model: Net):
    """Gradient groups for the per-stage gradient-norm plot, input side first."""
    return [(name, list(getattr(model, name).parameters()))
            for name in ("stem", "stage1", "stage2", "stage3", "head")]


def run(spec, report) -> RunResult:
    cfg = spec.config
    model = build_model(spec.variant, cfg)
    return train_classifier(spec, report, model, epochs=cfg["epochs"],
                            batch_size=cfg["batch_size"], lr=cfg["lr"],
                            weight_decay=cfg["weight_decay"], train_limit=cfg["train_limit"],
                            augment=cfg["augment"], optimizer="sgd", grad_groups=stages,
                            precision=cfg["precision"])


EXPLANATION = """
**Principle.** More layers should never hurt in principle: a deeper network could copy a
shallower one and set its extra layers to the identity. In practice plain deep stacks
train *worse*, even on the training set (the "degradation" problem): the optimiser finds
it hard to make a stack of convolutions and non-linearities behave like the identity.
A residual block changes what the layers must learn: its output is `x + F(x)`, the input
carried over a skip connection plus a correction `F` computed by two convolutions. Doing
nothing is now easy (`F = 0`), and the gradient reaches early layers directly through the
skips instead of through every layer's weights.

**Training.** Exactly as for the plain network of the same shape: cross-entropy,
back-propagation, SGD with Nesterov momentum and a one-cycle learning-rate schedule, batch
normalisation after every convolution. The only difference between the two variants on
this page is the `+ x`. Watch the training-loss curves and the gradient norm per stage:
at 32 layers (the standard preset) the plain network learns slower, its early stages get
weaker gradients and it ends with about 1.5 times the mistakes; at 56 layers and a
short budget it barely learns at all. MNIST is easy: at 20 layers and fifteen passes (the
full preset) both variants reach about 99.6 %.

**Strengths.** Depth that trains reliably: residual networks of 50 to 150 layers (and
more) train as easily as shallow ones and won ImageNet 2015. The skip idea is cheap (an
addition) and went everywhere: every Transformer block on the later pages is residual.

**Weaknesses.** On a small, easy task like MNIST the extra depth buys little accuracy for
a lot of compute; deep networks are slower to train and run than a compact CNN. The
benefit is in trainability, not magic: data, augmentation and schedule still matter.

**Uses.** Backbone of image classification, detection and segmentation (ResNet-50 is a
default feature extractor), medical imaging, and the residual pattern itself in
Transformers, diffusion U-Nets and graph networks.
"""

CARD = Card(
    code=(Block, Net, train_classifier),
    key="resnet",
    title="ResNet (residual network)",
    family="Vision",
    summary="Skip connections let a block learn a correction to the identity, so depth trains.",
    explanation=EXPLANATION,
    variants={
        "plain": "a plain CNN of `depth` layers: conv-BN-ReLU blocks, no skip connections",
        "residual": "the same network with a skip connection around every two-conv block",
    },
    presets={
        "quick": {"depth": 8, "width": 8, "epochs": 1, "train_limit": 4000},
        # 32 layers, two passes over all 55,000 images: residual 99.28 %, plain 98.93 % (1.5x
        # the mistakes). Depth 56 at one pass of 15,000 images gave 94.8 % / 21.6 %,
        # and at all the images still 98.8 % (residual); depth 20 leaves no gap (99.31 / 99.38).
        "standard": {"depth": 32, "width": 8, "epochs": 2},
        "full": {"depth": 20, "epochs": 15, "augment": True},
    },
    metrics=("test/acc", "test/loss", "val/acc", "val/loss", "train/last_epoch_loss",
             "time/infer_ms_per_image", "time/images_per_second"),
    headline="test/acc",
    headline_label="test accuracy",
    higher_is_better=True,
    config_cls=Config,
    run=run,
)
