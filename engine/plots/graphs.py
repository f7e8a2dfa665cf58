"""Figures for the GNN page: pure functions, data in, plotly Figure out."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from engine.i18n import t
from engine.plots import TEMPLATE

PALETTE = px.colors.qualitative.Plotly  # one colour per class (Planetoid has at most 7)


def _layout(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    fig.update_layout(title=title, template=TEMPLATE, height=height,
                      margin=dict(l=10, r=10, t=40, b=10), legend_title_text="")
    return fig


def seed_bands(history: pd.DataFrame, metric: str = "val/acc", lang: str = "en") -> go.Figure:
    """Mean curve of `metric` per run with a band of +- one std over its seeds (the run
    reports `metric` and `metric`_std every epoch)."""
    fig = go.Figure()
    for i, (run, rows) in enumerate(history.groupby("run", sort=False)):
        mean = rows[rows["key"] == metric].set_index("step")["value"]
        std = rows[rows["key"] == f"{metric}_std"].set_index("step")["value"]
        std = std.reindex(mean.index).fillna(0.0)
        colour = PALETTE[i % len(PALETTE)]
        fig.add_trace(go.Scatter(x=list(mean.index) + list(mean.index[::-1]),
                                 y=list(mean + std) + list((mean - std)[::-1]), fill="toself",
                                 fillcolor=colour, opacity=0.2, line=dict(width=0),
                                 hoverinfo="skip", showlegend=False, legendgroup=run))
        fig.add_trace(go.Scatter(x=mean.index, y=mean, name=run, line=dict(color=colour),
                                 legendgroup=run))
    fig.update_xaxes(title=t("plot.epoch", lang))
    label = t(f"metric.{metric}", lang)  # a metric of the shared catalogue
    fig.update_yaxes(title=label)
    return _layout(fig, t("plot.seed_bands", lang, metric=label), 380)


def seed_points(per_seed: dict[str, list[float]], lang: str = "en") -> go.Figure:
    """Variant -> test accuracy of each seed: one dot per seed, a bar at the mean."""
    fig = go.Figure()
    for i, (name, values) in enumerate(per_seed.items()):
        colour = PALETTE[i % len(PALETTE)]
        fig.add_trace(go.Scatter(x=[name] * len(values), y=values, mode="markers",
                                 marker=dict(color=colour, size=9, opacity=0.7),
                                 name=name, showlegend=False))
        fig.add_trace(go.Scatter(x=[name], y=[float(np.mean(values))], mode="markers",
                                 marker=dict(symbol="line-ew-open", size=36, color=colour,
                                             line=dict(width=3)), showlegend=False,
                                 hovertemplate=t("plot.mean_hover", lang, name=name)
                                 + " %{y:.4f}<extra></extra>"))
    fig.update_yaxes(title=t("metric.test/acc", lang))
    return _layout(fig, t("plot.seed_points", lang), 340)


def embedding_map(points: np.ndarray, true: np.ndarray, predicted: np.ndarray | None,
                  title: str, lang: str = "en") -> go.Figure:
    """(N, 2) map of nodes coloured by true class; hover gives node id and predicted class.
    Wrongly predicted nodes are drawn as crosses."""
    fig = go.Figure()
    ids = np.arange(len(points))
    for c in np.unique(true):
        mask = true == c
        hover = [t("plot.node_true", lang, node=i, c=c) for i in ids[mask]]
        symbols = "circle"
        if predicted is not None:
            hover = [f"{h}<br>{t('plot.predicted_class', lang, c=p)}"
                     for h, p in zip(hover, predicted[mask])]
            symbols = np.where(predicted[mask] == c, "circle", "x")
        fig.add_trace(go.Scattergl(x=points[mask, 0], y=points[mask, 1], mode="markers",
                                   name=t("plot.class_n", lang, c=c), text=hover, hoverinfo="text",
                                   marker=dict(color=PALETTE[int(c) % len(PALETTE)], size=5,
                                               symbol=symbols, opacity=0.75)))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title, 420)


def radial_layout(hops: list[int], edges: np.ndarray) -> np.ndarray:
    """(n, 2) positions: node 0 in the middle, 1-hop nodes on a circle of radius 1, 2-hop
    nodes on radius 2 next to the first 1-hop neighbour that links to them."""
    n = len(hops)
    angle = np.zeros(n)
    ring1 = [i for i in range(n) if hops[i] == 1]
    for k, i in enumerate(ring1):
        angle[i] = 2 * math.pi * k / max(len(ring1), 1)
    parent = {}
    for a, b in edges.T:
        if hops[a] == 1 and hops[b] == 2:
            parent.setdefault(int(b), angle[a])
    ring2 = sorted((i for i in range(n) if hops[i] == 2), key=lambda i: parent.get(i, 0.0))
    for k, i in enumerate(ring2):
        angle[i] = 2 * math.pi * k / max(len(ring2), 1) + math.pi / max(len(ring2), 1)
    radius = np.asarray(hops, dtype=float)
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1)


def neighbourhood(nodes: list[int], hops: list[int], edges: np.ndarray, true: np.ndarray,
                  predicted: np.ndarray, split: list[str], title: str,
                  lang: str = "en") -> go.Figure:
    """A node's 2-hop subgraph: fill = predicted class, ring = true class, a cross where
    they differ; the chosen node is the big one in the middle. `edges` (2, e) index into
    `nodes`; `true`, `predicted` and `split` are per entry of `nodes`."""
    xy = radial_layout(hops, edges)
    xs, ys = [], []
    for a, b in edges.T:
        if a < b:  # each citation is stored in both directions; draw it once
            xs += [xy[a, 0], xy[b, 0], None]
            ys += [xy[a, 1], xy[b, 1], None]
    fig = go.Figure(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color="#cbd5e1", width=1),
                               hoverinfo="skip", showlegend=False))
    for c in sorted(set(predicted.tolist())):
        idx = [i for i in range(len(nodes)) if predicted[i] == c]
        fig.add_trace(go.Scatter(
            x=xy[idx, 0], y=xy[idx, 1], mode="markers", name=t("plot.predicted_class", lang, c=c),
            marker=dict(color=PALETTE[c % len(PALETTE)],
                        size=[26 if i == 0 else 13 for i in idx],
                        symbol=["circle" if predicted[i] == true[i] else "x" for i in idx],
                        line=dict(color=[PALETTE[true[i] % len(PALETTE)] for i in idx],
                                  width=3)),
            text=[t("plot.node_hover", lang, node=nodes[i], split=split[i], hops=hops[i],
                    true=true[i], predicted=predicted[i]) for i in idx], hoverinfo="text"))
    wrong = int((predicted != true).sum())
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x")
    _layout(fig, t("plot.n_wrong", lang, title=title, wrong=wrong, n=len(nodes)), 480)
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=0, x=0))
    return fig


def attention(weights: np.ndarray, senders: list[str], columns: list[str],
              title: str, lang: str = "en") -> go.Figure:
    """(senders, columns) attention weights of one node's incoming edges."""
    fig = go.Figure(go.Heatmap(z=weights, x=columns, y=senders, colorscale="Purples",
                               texttemplate="%{z:.2f}" if len(senders) <= 15 else None,
                               hovertemplate="%{y}, %{x}: %{z:.3f}<extra></extra>"))
    fig.update_xaxes(title=t("plot.attention_head", lang))
    fig.update_yaxes(title=t("plot.incoming_from", lang), autorange="reversed")
    return _layout(fig, title, max(240, 100 + 28 * len(senders)))
