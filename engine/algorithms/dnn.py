"""DNN: fully connected networks (multilayer perceptrons) on MNIST / Fashion-MNIST.

Three variants share one loop (image_classifier.train_classifier):
  logreg  - no hidden layer: softmax regression, the linear floor;
  mlp     - two hidden layers, the classic MLP;
  deep    - `depth` hidden layers with a selectable activation, to show vanishing gradients.
"""
from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from engine.algorithms.image_classifier import train_classifier
from engine.core import COSTS_MORE, COSTS_MORE_ZERO_ALL, Card, RunResult, setting

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


@dataclass(frozen=True)
class Config:
    dataset: str = setting("mnist", "image dataset", choices=("mnist", "fashion_mnist"))
    epochs: int = setting(5, "passes over the training images", lo=1, hi=100, cost=COSTS_MORE)
    batch_size: int = setting(128, "images per gradient step", lo=8, hi=4096)
    lr: float = setting(2e-3, "peak learning rate (AdamW, one-cycle schedule)", lo=1e-5, hi=1.0)
    weight_decay: float = setting(1e-4, "AdamW weight decay", lo=0.0, hi=1.0)
    hidden: int = setting(256, "units in each hidden layer of the MLP", lo=8, hi=4096, cost=COSTS_MORE)
    dropout: float = setting(0.1, "dropout after each hidden layer of the MLP", lo=0.0, hi=0.9)
    depth: int = setting(10, "hidden layers of the deep variant", lo=2, hi=40, cost=COSTS_MORE)
    deep_width: int = setting(128, "units per hidden layer of the deep variant", lo=8, hi=2048,
                              cost=COSTS_MORE)
    activation: str = setting("sigmoid", "activation of the deep variant",
                              choices=tuple(ACTIVATIONS))
    train_limit: int = setting(0, "use only the first N training images (0 = all 55,000)",
                               lo=0, hi=55000, cost=COSTS_MORE_ZERO_ALL)


def build_model(variant: str, config: dict) -> nn.Module:
    """(B, 1, 28, 28) images -> (B, 10) logits."""
    layers: list[nn.Module] = [nn.Flatten()]  # (B, 784)
    if variant == "logreg":
        widths, act, drop = [], nn.ReLU, 0.0
    elif variant == "mlp":
        widths, act, drop = [config["hidden"]] * 2, nn.ReLU, config["dropout"]
    else:
        widths = [config["deep_width"]] * config["depth"]
        act, drop = ACTIVATIONS[config["activation"]], 0.0
    width_in = 28 * 28
    for width in widths:
        layers += [nn.Linear(width_in, width), act()]
        if drop:
            layers.append(nn.Dropout(drop))
        width_in = width
    layers.append(nn.Linear(width_in, 10))
    return nn.Sequential(*layers)


def linear_layers(model: nn.Module):
    """Gradient groups for the vanishing-gradient plot: one per Linear layer, input first."""
    linears = [m for m in model if isinstance(m, nn.Linear)]
    return [(f"layer_{i:02d}", list(m.parameters())) for i, m in enumerate(linears, 1)]


def run(spec, report) -> RunResult:
    cfg = spec.config
    model = build_model(spec.variant, cfg)
    return train_classifier(spec, report, model, epochs=cfg["epochs"],
                            batch_size=cfg["batch_size"], lr=cfg["lr"],
                            weight_decay=cfg["weight_decay"], train_limit=cfg["train_limit"],
                            grad_groups=linear_layers)


EXPLANATION = """
**Principle.** A deep neural network in its plainest form is a stack of fully connected
layers. Each layer multiplies its input vector by a weight matrix, adds a bias and passes
the result through a non-linearity such as ReLU. One layer can only draw straight
boundaries; stacking several lets the network bend them, so that the last layer sees
features that make the classes easy to separate. Here a 28x28 image is flattened into 784
numbers and the final layer gives one score per class; softmax turns the scores into
probabilities.

**Training.** The loss is the cross-entropy between those probabilities and the true label.
Back-propagation applies the chain rule layer by layer, from the output back to the input,
to get the gradient of the loss with respect to every weight; an optimiser (AdamW here,
with a one-cycle learning-rate schedule) then nudges each weight against its gradient.
One pass over the 55,000 training images is an epoch.

**Strengths.** Universal and simple: given enough units an MLP can fit almost any
function, it needs no assumptions about the input, and it is the building block inside
every other model on this dashboard.

**Weaknesses.** It ignores structure: shifting a digit by two pixels gives it a completely
different input vector, so it needs many parameters and examples to learn what a
convolution gets for free. Deep stacks of saturating activations (sigmoid, tanh) suffer
from vanishing gradients: each layer multiplies the backward signal by a derivative below
one, so the first layers barely learn. The `deep` variant shows this in its per-layer
gradient norms; switch its activation to ReLU to see the difference.

**Uses.** Tabular data, the heads of larger models (classifiers on top of a CNN or a
Transformer), recommendation, small control policies.
"""

CARD = Card(
    code=(build_model, train_classifier),
    key="dnn",
    title="DNN (multilayer perceptron)",
    family="Vision",
    summary="Stacked fully connected layers learn a non-linear map from pixels to classes.",
    explanation=EXPLANATION,
    variants={
        "logreg": "softmax regression, no hidden layer (the linear floor)",
        "mlp": "2 hidden layers with ReLU and dropout",
        "deep": "`depth` hidden layers with the chosen activation (vanishing gradients)",
    },
    presets={
        "quick": {"epochs": 2, "train_limit": 12000, "hidden": 128, "depth": 8},
        "standard": {},
        "full": {"epochs": 30, "hidden": 1024, "dropout": 0.3, "lr": 1e-3},
    },
    metrics=("test/acc", "test/loss", "val/acc", "val/loss", "time/infer_ms_per_image",
             "time/images_per_second"),
    headline="test/acc",
    headline_label="test accuracy",
    higher_is_better=True,
    config_cls=Config,
    run=run,
)
