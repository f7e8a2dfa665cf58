"""Plotly figure builders: pure functions, data in, Figure out, no Streamlit calls.

Shared figures live here; each family adds its own module beside this one
(vision.py, text.py, generative.py, graphs.py, control.py)."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import plotly.io as pio

from engine.i18n import t

# Every figure's template: plotly_white with a toolbar of the four tools a reader uses (save
# as PNG, zoom, pan, reset; Streamlit adds full screen). The full bar was nine buttons wide
# and covered the right end of a title in a half-width column; on a phone-sized window
# engine.ui.PHONE_CSS hides it.
TEMPLATE = go.layout.Template(pio.templates["plotly_white"])
TEMPLATE.layout.modebar.remove = ["zoomin", "zoomout", "autoscale", "select", "lasso",
                                  "togglespikelines", "hovercompare", "hoverclosest"]


def history_frame(rows: list[tuple[int, float, str, float]], label: str,
                  reference: bool = False) -> pd.DataFrame:
    """Store history rows (step, seconds, key, value) -> long frame with a `run` column and a
    `reference` one (True for a shipped reference run, which curves() draws dotted)."""
    frame = pd.DataFrame(rows, columns=["step", "seconds", "key", "value"])
    frame["run"] = label
    frame["reference"] = reference
    return frame


def curves(history: pd.DataFrame, metric: str, x: str = "step", title: str | None = None,
           log_y: bool = False, lang: str = "en", y_title: str | None = None) -> go.Figure:
    """One line per run of `metric` against step or wall-clock seconds (the y axis is
    named y_title, else the title)."""
    data = history[history["key"] == metric]
    fig = px.line(data, x=x, y="value", color="run", log_y=log_y, template=TEMPLATE,
                  title=title or metric, labels={"value": y_title or title or metric,
                                                 "seconds": t("plot.seconds", lang),
                                                 "step": t("plot.step", lang)})
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=40, b=10), legend_title_text="")
    references = set(data.loc[data["reference"], "run"]) if "reference" in data else set()
    for trace in fig.data:  # a run with one point (a 1-epoch baseline) has no line to draw
        if len(trace.x) == 1:
            trace.update(mode="markers", marker_size=10)
        if trace.name in references:
            trace.update(line_dash="dot")
    return fig


def smoothed(history: pd.DataFrame, weight: float) -> pd.DataFrame:
    """Each run's and key's values as an exponential moving average in step order, weight
    in [0, 1) (0: unchanged), debiased so the first points are not pulled towards 0 (the
    smoothing TensorBoard's slider applies). Returns a copy; the raw values stay intact."""
    if weight <= 0 or history.empty:
        return history
    out = history.sort_values("step", kind="stable").copy()

    def average(values: pd.Series) -> pd.Series:
        mean, result = 0.0, []
        for i, value in enumerate(values, start=1):
            mean = weight * mean + (1 - weight) * value
            result.append(mean / (1 - weight ** i))  # the weight the points so far carry
        return pd.Series(result, index=values.index)

    out["value"] = out.groupby(["run", "key"], sort=False)["value"].transform(average)
    return out


def metric_grid(history: pd.DataFrame, metrics: list[str], x: str = "step") -> list[go.Figure]:
    return [curves(history, m, x) for m in metrics if (history["key"] == m).any()]


def heatmap(matrix: np.ndarray, x_labels: list[str], y_labels: list[str], title: str,
            x_title: str = "", y_title: str = "", colorscale: str = "Blues",
            text: bool = True) -> go.Figure:
    fig = go.Figure(go.Heatmap(z=matrix, x=x_labels, y=y_labels, colorscale=colorscale,
                               text=matrix if text else None,
                               texttemplate="%{text}" if text else None))
    fig.update_layout(title=title, template=TEMPLATE, height=420,
                      margin=dict(l=10, r=10, t=40, b=10),
                      xaxis_title=x_title, yaxis_title=y_title, yaxis_autorange="reversed")
    return fig


def image_grid(images: np.ndarray, titles: list[str], columns: int = 8,
               title: str = "", rows: int | None = None) -> go.Figure:
    """(N, H, W) grey images in [0, 255] or [0, 1] -> a grid of small heatmaps, drawn from
    the top of the figure (figures side by side start level). rows: the height of a grid of
    that many rows, for panels of different sizes shown in one row."""
    n = len(images)
    rows = max(1, (n + columns - 1) // columns, rows or 0)
    h, w = images.shape[1:3]
    canvas = np.full((rows * (h + 2), columns * (w + 2)), np.nan)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        canvas[r * (h + 2):r * (h + 2) + h, c * (w + 2):c * (w + 2) + w] = image
    fig = px.imshow(canvas, color_continuous_scale="gray_r", template=TEMPLATE, title=title)
    for i, text in enumerate(titles):
        r, c = divmod(i, columns)
        fig.add_annotation(x=c * (w + 2) + w / 2, y=r * (h + 2) - 0.5, text=text,
                           showarrow=False, font=dict(size=10), yshift=4)
    fig.update_layout(coloraxis_showscale=False, height=max(160, 110 * rows + 40),
                      margin=dict(l=0, r=0, t=40, b=0))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, constraintoward="top")  # not centred in the height
    return fig


def scatter_points(frame: pd.DataFrame, x: str, y: str, color: str, title: str,
                   hover: list[str] | None = None, log_x: bool = False,
                   labels: dict[str, str] | None = None) -> go.Figure:
    """labels: column name -> the text its axis, legend and hover show."""
    fig = px.scatter(frame, x=x, y=y, color=color, hover_data=hover, log_x=log_x,
                     template=TEMPLATE, title=title, labels=labels)
    fig.update_traces(marker=dict(size=12))
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def part_name(series: str, lang: str = "en") -> str:
    """A network part as a gradient series names it (layer_01, stage2, stem, head), in
    words; any other name stays as it is."""
    if match := re.fullmatch(r"(layer_|stage)(\d+)", series):
        kind = "grad_layer" if match[1] == "layer_" else "grad_stage"
        return t(f"plot.{kind}", lang, n=int(match[2]))
    return t(f"plot.grad_{series}", lang) if series in ("stem", "head") else series


def grouped_curves(history: pd.DataFrame, prefix: str, title: str, x: str = "step",
                   log_y: bool = True, lang: str = "en") -> go.Figure:
    """Every metric starting with `prefix` (e.g. "grad/") as its own line, for one run."""
    data = history[history["key"].str.startswith(prefix)].copy()
    data["series"] = data["key"].str.removeprefix(prefix).map(lambda n: part_name(n, lang))
    # one colour per series: the default palette has 10, the deep MLP logs 11 layers
    palette = px.colors.qualitative.Dark24 if data["series"].nunique() > 10 else None
    fig = px.line(data, x=x, y="value", color="series", log_y=log_y, template=TEMPLATE,
                  title=title, labels={"value": t("plot.norm", lang), "series": "",
                                       "step": t("plot.step", lang)},
                  color_discrete_sequence=palette)
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def confusion(matrix: np.ndarray, classes: list[str], title: str,
              lang: str = "en") -> go.Figure:
    """(C, C) counts with rows = true class, columns = predicted class."""
    return heatmap(matrix, classes, classes, title, x_title=t("plot.predicted", lang),
                   y_title=t("plot.true", lang))


def thumbnail(history: pd.DataFrame, metric: str, title: str | None = None,
              value_text: str | None = None) -> go.Figure:
    """A tiny, axis-light curve for a card, titled `title` (default: the key). A metric
    with one point is a dot with its value written beside it and no y axis: an axis
    autoscaled around a single value (0.5 to 1.5 for 0.958) reads as a different number."""
    data = history[history["key"] == metric]
    single = len(data) == 1
    fig = go.Figure(go.Scatter(x=data["step"], y=data["value"],
                               mode="markers+text" if single else "lines",
                               text=[value_text or f"{v:.4g}" for v in data["value"]]
                               if single else None, textposition="middle right",
                               line=dict(width=2, color="#2563eb")))
    fig.update_layout(height=110, margin=dict(l=0, r=0, t=18, b=0), template=TEMPLATE,
                      title=dict(text=title or metric, font=dict(size=11)), showlegend=False)
    if single:
        fig.update_yaxes(visible=False)
    fig.update_xaxes(visible=False)
    return fig
