"""Figures for the vision pages (DNN, CNN, ResNet): pure functions, data in, Figure out."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from engine.i18n import t
from engine.plots import TEMPLATE, image_grid, scatter_points


def _stretch(images: np.ndarray) -> np.ndarray:
    """Scale each (H, W) image of (N, H, W) to [0, 1] on its own, so weak ones still show."""
    lo = images.min(axis=(1, 2), keepdims=True)
    hi = images.max(axis=(1, 2), keepdims=True)
    return (images - lo) / np.maximum(hi - lo, 1e-12)


def filters(weights: np.ndarray, title: str, limit: int = 32,
            rows: int | None = None) -> go.Figure:
    """(K, k, k) first-layer kernels (or (K, 28, 28) MLP unit weights) as a grid; dark =
    the pixel pattern a unit responds to most. rows: the height of that many rows."""
    shown = _stretch(np.asarray(weights, dtype=float)[:limit])
    return image_grid(shown, [str(i) for i in range(len(shown))],
                      columns=min(8, len(shown)), title=title, rows=rows)


def first_layers(panels: dict[str, np.ndarray], limit: int = 32) -> list[go.Figure]:
    """title -> weights, for panels shown side by side: one filters() figure each, all as
    tall as the one with the most rows and drawn from the top, so they start level (six
    LeNet filters sat mid-height beside 32 MLP units)."""
    rows = max((-(-min(len(w), limit) // 8) for w in panels.values()), default=1)
    return [filters(w, title, limit, rows) for title, w in panels.items()]


def feature_map_title(name: str, lang: str = "en") -> str:
    """engine.inspect's "conv 1 + ReLU: 6 x 28 x 28" in `lang` (any other name as it is)."""
    match = re.fullmatch(r"conv (\d+) \+ (ReLU|max-pool): (\d+) x (\d+) x (\d+)", name)
    if not match:
        return name
    kind = t("plot.kind_relu" if match[2] == "ReLU" else "plot.kind_pool", lang)
    return t("plot.feature_map", lang, conv=match[1], kind=kind, c=match[3], h=match[4],
             w=match[5])


def feature_maps(maps: list[tuple[str, np.ndarray]], channels: int = 8,
                 lang: str = "en") -> list[go.Figure]:
    """One figure per layer: the first `channels` maps of (C, H, W), each stretched."""
    figures = []
    for name, activation in maps:
        shown = _stretch(np.asarray(activation, dtype=float)[:channels])
        figures.append(image_grid(shown, [t("plot.channel", lang, i=i) for i in range(len(shown))],
                                  columns=channels, title=feature_map_title(name, lang)))
    return figures


def digit(image: np.ndarray, title: str) -> go.Figure:
    """A (28, 28) uint8 digit as the models get it."""
    fig = px.imshow(np.asarray(image), color_continuous_scale="gray", zmin=0, zmax=255,
                    template=TEMPLATE, title=title)
    fig.update_layout(coloraxis_showscale=False, height=260, margin=dict(l=0, r=0, t=40, b=0))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def probabilities(probs: dict[str, np.ndarray], classes: list[str],
                  lang: str = "en") -> go.Figure:
    """Variant -> (C,) class probabilities, as grouped bars: one colour per variant."""
    frame = pd.DataFrame([{"variant": name, "class": cls, "probability": float(p)}
                          for name, row in probs.items() for cls, p in zip(classes, row)])
    fig = px.bar(frame, x="class", y="probability", color="variant", barmode="group",
                 template=TEMPLATE, title=t("plot.class_probabilities", lang),
                 range_y=[0, 1], labels={"class": t("plot.class", lang),
                                         "probability": t("plot.probability", lang)})
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=40, b=10), legend_title_text="")
    fig.update_xaxes(type="category")
    return fig


def params_vs_accuracy(table: pd.DataFrame, accuracy: str = "test/acc",
                       label: str = "variant", lang: str = "en") -> go.Figure:
    """Each run a point: parameters (log scale) against test accuracy."""
    fig = scatter_points(table, x="params", y=accuracy, color=label,
                         title=t("plot.params_vs_accuracy", lang),
                         hover=["train seconds"] if "train seconds" in table else None,
                         log_x=True, labels={"params": t("col.params", lang),
                                             "train seconds": t("col.train seconds", lang),
                                             accuracy: t(f"metric.{accuracy}", lang)})
    fig.update_layout(legend_title_text="")  # the legend lists the variants by name
    return fig
