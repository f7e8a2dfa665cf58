"""Figures of the sequence pages (LSTM, Transformer): pure functions, data in, Figure out."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from engine.i18n import t
from engine.plots import TEMPLATE


def _shown(chars: str) -> list[str]:
    """Axis labels for characters: make spaces and newlines visible, keep labels unique."""
    visible = {" ": "␣", "\n": "↵"}
    return [f"{visible.get(c, c)}<sub>{i}</sub>" for i, c in enumerate(chars)]


def state_heatmap(values: np.ndarray, chars: str, title: str, lang: str = "en") -> go.Figure:
    """(T, H) activations of H units over T input characters -> units x characters."""
    fig = go.Figure(go.Heatmap(z=values.T, x=_shown(chars), colorscale="RdBu", zmid=0,
                               colorbar=dict(thickness=10)))
    fig.update_layout(title=title, template=TEMPLATE, height=360,
                      xaxis_title=t("plot.input_character", lang), yaxis_title=t("plot.unit", lang),
                      margin=dict(l=10, r=10, t=40, b=10))
    return fig


def unit_gates(series: dict[str, np.ndarray], chars: str, title: str,
               lang: str = "en") -> go.Figure:
    """Each gate (and state) of one unit along the input: name -> (T,) values."""
    fig = go.Figure()
    for name, values in series.items():
        fig.add_trace(go.Scatter(x=_shown(chars), y=values, mode="lines+markers", name=name))
    fig.update_layout(title=title, template=TEMPLATE, height=340,
                      xaxis_title=t("plot.input_character", lang), margin=dict(l=10, r=10, t=40, b=10),
                      legend_title_text="")
    return fig


def attention_grid(maps: np.ndarray, tokens: list[str], title: str,
                   lang: str = "en") -> go.Figure:
    """(layers, heads, T, T) attention weights -> one small heatmap per layer and head;
    row = the position that looks, column = the position looked at."""
    layers, heads = maps.shape[:2]
    labels = _shown("".join(tokens)) if all(len(token) == 1 for token in tokens) else \
        [f"{token}<sub>{i}</sub>" for i, token in enumerate(tokens)]
    fig = make_subplots(rows=layers, cols=heads, horizontal_spacing=0.02, vertical_spacing=0.04,
                        subplot_titles=[t("plot.layer_head", lang, layer=layer + 1, head=h + 1)
                                        for layer in range(layers) for h in range(heads)])
    for layer in range(layers):
        for h in range(heads):
            fig.add_trace(go.Heatmap(z=maps[layer, h], x=labels, y=labels, zmin=0, zmax=1,
                                     colorscale="Blues", showscale=False), row=layer + 1, col=h + 1)
    fig.update_yaxes(autorange="reversed", showticklabels=False)
    fig.update_xaxes(showticklabels=False)
    # the characters (or words) on the outer axes: left column and bottom row
    fig.update_yaxes(showticklabels=True, tickfont_size=8, col=1)
    fig.update_xaxes(showticklabels=True, tickfont_size=8, tickangle=0, row=layers)
    fig.update_layout(title=title, template=TEMPLATE, height=max(260, 220 * layers),
                      margin=dict(l=10, r=10, t=60, b=10))
    return fig


def positive_bars(probabilities: dict[str, float], title: str, lang: str = "en") -> go.Figure:
    """Run label -> probability that the sentence is positive."""
    names = list(probabilities)
    values = [probabilities[n] for n in names]
    fig = go.Figure(go.Bar(x=values, y=names, orientation="h", text=[f"{v:.0%}" for v in values],
                           marker_color=["#16a34a" if v >= 0.5 else "#dc2626" for v in values]))
    fig.add_vline(x=0.5, line_dash="dot")
    fig.update_layout(title=title, template=TEMPLATE, xaxis_range=[0, 1],
                      height=120 + 40 * len(names), xaxis_title=t("plot.p_positive", lang),
                      margin=dict(l=10, r=10, t=40, b=10))
    return fig
