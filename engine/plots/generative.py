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
ANCHOR_LINES = (("#2ca02c", "dot"), ("#d62728", "dash"), ("#7f7f7f", "dashdot"))  # in order
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
    """Horizontal bars of FID per run (log scale), with the anchors as reference lines.

    Each line is named in the legend below the chart, in its own colour and dash: labels
    written beside the lines overlapped each other and the bars when two anchors sat close
    on the log axis or a bar reached past them."""
    names = list(scores)
    fig = go.Figure(go.Bar(x=[scores[n] for n in names], y=names, orientation="h",
                           text=[f"{scores[n]:.1f}" for n in names], textposition="auto",
                           marker_color="#8fb3d9", showlegend=False))
    for (key, name), (colour, dash) in zip(ANCHORS.items(), ANCHOR_LINES):
        if key in anchors:
            fig.add_shape(type="line", x0=anchors[key], x1=anchors[key], xref="x", y0=0, y1=1,
                          yref="paper", line=dict(color=colour, dash=dash, width=2),
                          name=t("plot.anchor_entry", lang, name=t(name, lang),
                                                 fid=f"{anchors[key]:.1f}"),
                          showlegend=True)
    values = [*scores.values(), *(anchors[k] for k in ANCHORS if k in anchors)]
    low, high = math.log10(min(values)), math.log10(max(values))  # no line on the frame
    fig.update_layout(template=TEMPLATE, height=170 + 40 * len(names), xaxis_type="log",
                      xaxis_range=[low - 0.08, high + 0.08], title=t("plot.fid_title", lang),
                      legend=dict(orientation="h", yanchor="top", y=-0.3, x=0),
                      margin=dict(l=10, r=10, t=40, b=10))  # the title names the axis
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
