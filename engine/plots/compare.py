"""Figures of the Compare page: pure functions, data in, plotly Figure out."""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from engine.i18n import t
from engine.plots import TEMPLATE

BASELINE_COLOUR, OTHER_COLOUR = "#1d4ed8", "#93c5fd"


def final_bars(values: pd.DataFrame, metric: str, baseline_id: str,
               lang: str = "en") -> go.Figure:
    """Final `metric` of each run (rows of engine.compare.final_values, index = run id) as
    horizontal bars; the baseline's bar is dark and a dashed line marks its value."""
    data = values[values[metric].notna()]
    colours = [BASELINE_COLOUR if i == baseline_id else OTHER_COLOUR for i in data.index]
    fig = go.Figure(go.Bar(x=data[metric], y=data["run"], orientation="h",
                           marker_color=colours, text=[f"{v:.4g}" for v in data[metric]],
                           textposition="auto"))
    base = values.at[baseline_id, metric] if baseline_id in values.index else math.nan
    if not math.isnan(base):
        fig.add_vline(x=base, line_dash="dash", line_color=BASELINE_COLOUR,
                      annotation_text=t("plot.baseline", lang), annotation_position="top")
    fig.update_layout(title=t("plot.final_metric", lang, metric=metric), template=TEMPLATE,
                      xaxis_title=metric,
                      height=max(220, 60 + 36 * len(data)), margin=dict(l=10, r=10, t=40, b=10),
                      yaxis_autorange="reversed")
    return fig
