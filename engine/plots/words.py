"""Figures of the Word2Vec page: pure functions, data in, plotly Figure out."""
from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from engine.i18n import t
from engine.plots import TEMPLATE


def word_map(words: list[str], xy, cluster, title: str, labels: int = 60,
             lang: str = "en") -> go.Figure:
    """Words at 2-D positions xy (n, 2), coloured by cluster (n,), every word on hover and
    the first `labels` (the most frequent) written beside their point."""
    frame = pd.DataFrame({"x": xy[:, 0].tolist(), "y": xy[:, 1].tolist(), "word": words,
                          "cluster": [t("plot.cluster", lang, n=int(c) + 1) for c in cluster]})
    frame["text"] = [w if i < labels else "" for i, w in enumerate(words)]
    fig = px.scatter(frame, x="x", y="y", color="cluster", text="text", hover_name="word",
                     hover_data={"x": False, "y": False, "text": False, "cluster": True},
                     template=TEMPLATE, title=title,
                     category_orders={"cluster": [t("plot.cluster", lang, n=k + 1)
                                                  for k in sorted({int(c) for c in cluster})]})
    fig.update_traces(textposition="top center", textfont_size=10, marker_size=7)
    fig.update_layout(height=560, margin=dict(l=10, r=10, t=40, b=10), legend_title_text="")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def against_random(rows: list[dict], lang: str = "en") -> go.Figure:
    """Grouped bars: each variant's WordSim-353 Spearman and analogy accuracy beside the
    same figures for random vectors of its vocabulary. rows: {"variant", "metric",
    "trained", "random"} dicts."""
    frame = pd.DataFrame(rows)
    long = frame.melt(id_vars=["variant", "metric"], value_vars=["trained", "random"],
                      var_name="vectors", value_name="score")
    fig = px.bar(long, x="variant", y="score", color="vectors", barmode="group",
                 facet_col="metric", template=TEMPLATE,
                 title=t("plot.trained_vs_random", lang),
                 color_discrete_map={"trained": "#2563eb", "random": "#9ca3af"},
                 labels={"variant": t("col.variant", lang), "score": t("plot.score", lang),
                         "vectors": t("plot.vectors", lang)})
    names = {"trained": t("plot.trained", lang), "random": t("plot.random", lang)}
    fig.for_each_trace(lambda trace: trace.update(name=names[trace.name]))
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    fig.update_yaxes(matches=None, showticklabels=True)
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=60, b=10), legend_title_text="")
    return fig
