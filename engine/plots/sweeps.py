"""Figures of the Sweeps page: pure functions from engine.sweep.summarize's table (one row
per grid point: its field values, `mean`, `std`, `done`, `runs`) to plotly Figures."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from engine.core import value_text
from engine.i18n import t
from engine.plots import TEMPLATE, heatmap


def _mean_std(mean: float, std: float, lang: str) -> str:
    if math.isnan(mean):
        return t("sweeps.pending", lang)
    return f"{mean:.4f}" if math.isnan(std) else f"{mean:.4f}<br>± {std:.4f}"


def one_field(table: pd.DataFrame, field: str, metric: str, lang: str = "en") -> go.Figure:
    """Mean over seeds per value of the one grid field, error bars = one std."""
    data = table.dropna(subset=["mean"])
    fig = go.Figure(go.Scatter(
        x=[value_text(v) for v in data[field]], y=data["mean"], mode="lines+markers",
        error_y=dict(type="data", array=data["std"].fillna(0), visible=True)))
    fig.update_layout(template=TEMPLATE, title=t("sweeps.mean_std_title", lang, metric=metric),
                      xaxis_title=field, yaxis_title=metric, xaxis_type="category",
                      height=380, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def two_fields(table: pd.DataFrame, x_field: str, y_field: str, metric: str,
               higher_is_better: bool = True, lang: str = "en") -> go.Figure:
    """Heatmap of the mean over seeds, x_field across, y_field down; each cell says
    mean ± std (or pending)."""
    xs = list(dict.fromkeys(table[x_field]))
    ys = list(dict.fromkeys(table[y_field]))
    means = np.full((len(ys), len(xs)), np.nan)
    labels = [[t("sweeps.pending", lang)] * len(xs) for _ in ys]
    for row in table.to_dict("records"):
        i, j = ys.index(row[y_field]), xs.index(row[x_field])
        means[i, j] = row["mean"]
        labels[i][j] = _mean_std(row["mean"], row["std"], lang)
    fig = heatmap(means, [value_text(x) for x in xs], [value_text(y) for y in ys],
                  t("sweeps.mean_std_title", lang, metric=metric), x_title=x_field, y_title=y_field,
                  colorscale="Blues" if higher_is_better else "Blues_r", text=False)
    fig.update_traces(text=labels, texttemplate="%{text}", colorbar_title=metric)
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category")
    return fig


def parallel(table: pd.DataFrame, fields: list[str], metric: str,
             higher_is_better: bool = True, lang: str = "en") -> go.Figure:
    """Parallel coordinates: one line per finished grid point through its field values
    (text values become evenly spaced ticks) and its mean, coloured by the mean."""
    data = table.dropna(subset=["mean"])
    dimensions = []
    for field in fields:
        values = list(dict.fromkeys(table[field]))
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            dimensions.append(dict(label=field, values=data[field].astype(float)))
        else:
            codes = {v: i for i, v in enumerate(values)}
            dimensions.append(dict(label=field, values=[codes[v] for v in data[field]],
                                   tickvals=list(codes.values()),
                                   ticktext=[value_text(v) for v in codes]))
    dimensions.append(dict(label=t("sweeps.metric_mean", lang, metric=metric), values=data["mean"]))
    fig = go.Figure(go.Parcoords(
        dimensions=dimensions,
        line=dict(color=data["mean"], colorscale="Blues" if higher_is_better else "Blues_r",
                  showscale=True, colorbar=dict(title=metric))))
    fig.update_layout(template=TEMPLATE, title=t("sweeps.parallel_title", lang, metric=metric),
                      height=420, margin=dict(l=40, r=40, t=60, b=20))
    return fig
