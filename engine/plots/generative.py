"""Figures and tables of the generative pages (GAN, diffusion): pure functions, data in,
plotly Figure (or DataFrame) out, no Streamlit calls."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from engine.i18n import t
from engine.plots import TEMPLATE, image_grid

ANCHORS = {"eval/fid_floor": "plot.anchor_floor", "eval/fid_pixel": "plot.anchor_pixel",
           "eval/fid_noise": "plot.anchor_noise"}  # metric -> catalogue key of its name
COLUMNS = {"eval/fid": "FID", "eval/fid_std": "FID std (seeds)",
           "eval/precision": "precision", "eval/recall": "recall",
           "eval/class_entropy": "class entropy",
           "eval/confidence": "mean confidence", "eval/hist_max_dev": "max class dev",
           "eval/fid_floor": "FID floor", "eval/precision_floor": "precision real vs real",
           "eval/recall_floor": "recall real vs real", "eval/fid_pixel": "FID pixel-Gauss",
           "time/sample_ms_per_image": "sample ms/img"}


def samples(images: np.ndarray, title: str, columns: int = 8) -> tuple:
    """(N, 28, 28) uint8 samples -> a grid without captions."""
    return image_grid(images, [""] * len(images), columns=columns, title=title)


def strip(images: np.ndarray, captions: list[str], title: str) -> go.Figure:
    """A row of images (a trajectory), one caption each."""
    return image_grid(images, captions, columns=len(images), title=title)


def class_histograms(histograms: dict[str, list[float]], classes: list[str],
                     lang: str = "en") -> go.Figure:
    """Grouped bars: the share of samples the classifier puts in each class, per run,
    against the 10% a generator covering every class evenly would give."""
    fig = go.Figure()
    for name, shares in histograms.items():
        fig.add_bar(x=classes, y=shares, name=name)
    fig.add_hline(y=1 / len(classes), line_dash="dot", annotation_text=t("plot.uniform", lang))
    fig.update_layout(template=TEMPLATE, height=340, barmode="group", yaxis_tickformat=".0%",
                      title=t("plot.class_histogram", lang),
                      margin=dict(l=10, r=10, t=40, b=10), legend_title_text="")
    return fig


def fid_with_anchors(scores: dict[str, float], anchors: dict[str, float],
                     lang: str = "en") -> go.Figure:
    """Horizontal bars of FID per run (log scale), with the anchors as reference lines."""
    names = list(scores)
    fig = go.Figure(go.Bar(x=[scores[n] for n in names], y=names, orientation="h",
                           text=[f"{scores[n]:.1f}" for n in names], textposition="auto"))
    for key, name in ANCHORS.items():
        if key in anchors:
            fig.add_vline(x=anchors[key], line_dash="dot")
            # On a log axis an annotation's x is log10 of the value (a line's is the value
            # itself): given the value, the label sat at 10^52.7 and stretched the axis there.
            fig.add_annotation(x=math.log10(anchors[key]), y=1, yref="paper", showarrow=False,
                               text=f"{t(name, lang)} {anchors[key]:.1f}", textangle=-90,
                               xanchor="left", yanchor="top")
    fig.update_layout(template=TEMPLATE, height=120 + 40 * len(names), xaxis_type="log",
                      title=t("plot.fid_title", lang),
                      margin=dict(l=10, r=10, t=40, b=10), xaxis_title="FID")
    return fig


def schedules(alpha_bars: dict[str, np.ndarray], lang: str = "en") -> go.Figure:
    """alpha-bar_t over t for each schedule: how much of the image is left at step t."""
    fig = go.Figure()
    for name, values in alpha_bars.items():
        steps = np.arange(1, len(values) + 1)
        fig.add_scatter(x=steps, y=values, mode="lines", name=name)
    fig.update_layout(template=TEMPLATE, height=320, xaxis_title=t("plot.step_t", lang),
                      yaxis_title=t("plot.alpha_bar", lang), title=t("plot.noise_schedule", lang),
                      margin=dict(l=10, r=10, t=40, b=10), legend_title_text="")
    return fig


def generative_table(runs: list[dict]) -> pd.DataFrame:
    """GAN and diffusion runs in one table: the shared yardstick, time and size."""
    records = []
    for run in runs:
        record = {"model": f"{run['algorithm']}/{run['variant']}",
                  "preset": run["spec"]["preset"], "seed": run["spec"]["seed"]}
        record.update({label: run["metrics"].get(key) for key, label in COLUMNS.items()})
        record["train seconds"] = run["train_seconds"]
        record["params"] = run["params"]
        records.append(record)
    return pd.DataFrame(records)


def latest_per_model(runs: list[dict], preset: str) -> list[dict]:
    """The newest finished run of each algorithm/variant at one preset (runs newest first)."""
    seen, out = set(), []
    for run in runs:
        key = (run["algorithm"], run["variant"])
        if run["spec"]["preset"] == preset and key not in seen:
            seen.add(key)
            out.append(run)
    return sorted(out, key=lambda r: (r["algorithm"], r["variant"]))
