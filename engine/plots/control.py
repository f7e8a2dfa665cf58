"""Figures for the Control family (DQN): seed bands, the policy map, Q-values along an
episode, and the replay as a GIF. Pure functions: data in, figure (or GIF bytes) out."""
from __future__ import annotations

import io

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from engine.i18n import t
from engine.plots import TEMPLATE

COLORS = qualitative.Plotly


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def seed_matrix(curves: list[dict], key: str, hold_last: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per-seed curves (dicts of lists, one point per evaluation) -> (steps (T,), values
    (seeds, T)). Seeds that stopped early are padded with NaN, or with their last value if
    hold_last (a stopped agent keeps its policy, so its evaluation return stands)."""
    longest = max(curves, key=lambda c: len(c["step"]))
    steps = np.asarray(longest["step"], dtype=float)
    values = np.full((len(curves), len(steps)), np.nan)
    for i, curve in enumerate(curves):
        row = np.asarray(curve[key], dtype=float)
        values[i, :len(row)] = row
        if hold_last and len(row):
            values[i, len(row):] = row[-1]
    return steps, values


def seed_bands(runs: dict[str, list[dict]], key: str, title: str, y_title: str,
               hold_last: bool = False, threshold: float | None = None,
               lang: str = "en") -> go.Figure:
    """One median line per run over its seeds, with a min-max band; `runs` maps a label to
    that run's per-seed curves. A run with no values for `key` (the random policy has no
    TD loss) is left out but keeps its colour slot, so colours match across figures."""
    fig = go.Figure()
    for i, (label, curves) in enumerate(runs.items()):
        steps, values = seed_matrix(curves, key, hold_last)
        present = ~np.isnan(values).all(0)
        if not present.any():
            continue
        steps, values = steps[present], values[:, present]
        color = COLORS[i % len(COLORS)]
        low, high = np.nanmin(values, 0), np.nanmax(values, 0)
        fig.add_trace(go.Scatter(x=np.concatenate([steps, steps[::-1]]),
                                 y=np.concatenate([high, low[::-1]]), mode="lines",
                                 fill="toself", fillcolor=_rgba(color, 0.15), line=dict(width=0),
                                 hoverinfo="skip", showlegend=False, legendgroup=label))
        fig.add_trace(go.Scatter(x=steps, y=np.nanmedian(values, 0), mode="lines",
                                 line=dict(color=color, width=2), legendgroup=label,
                                 name=t("plot.median_of", lang, label=label, n=len(curves))))
    if threshold is not None:
        fig.add_hline(y=threshold, line_dash="dot", line_color="grey",
                      annotation_text=t("plot.solved_at", lang, threshold=f"{threshold:g}"))
    fig.update_layout(title=title, template=TEMPLATE, height=360,
                      margin=dict(l=10, r=10, t=40, b=10), xaxis_title=t("plot.env_steps", lang),
                      yaxis_title=y_title, legend=dict(orientation="h", y=-0.2))
    return fig


def policy_map(grid: dict, action_names: list[str], title: str, lang: str = "en") -> go.Figure:
    """The greedy action over (angle, angular velocity); hover shows every Q-value.
    grid: angles (n,), velocities (n,), q (n velocities, n angles, A)."""
    q = grid["q"]
    best = q.argmax(-1)  # (n, n)
    n_actions = q.shape[-1]
    # A discrete colour scale: equal bands, one colour per action.
    scale = []
    for a in range(n_actions):
        color = COLORS[a % len(COLORS)]
        scale += [[a / n_actions, color], [(a + 1) / n_actions, color]]
    hover = "<br>".join(f"Q({name}) = %{{customdata[{a}]:.2f}}"
                        for a, name in enumerate(action_names))
    fig = go.Figure(go.Heatmap(
        z=best, x=grid["angles"], y=grid["velocities"], customdata=q, zmin=-0.5,
        zmax=n_actions - 0.5, colorscale=scale,
        colorbar=dict(tickvals=list(range(n_actions)), ticktext=action_names, title=t("plot.action", lang)),
        hovertemplate=t("plot.angle_velocity_hover", lang) + "<br>" + hover + "<extra></extra>"))
    fig.update_layout(title=title, template=TEMPLATE, height=420,
                      margin=dict(l=10, r=10, t=40, b=10), xaxis_title=grid["x_title"],
                      yaxis_title=grid["y_title"])
    return fig


def episode_q_values(q_values: np.ndarray, actions: np.ndarray, action_names: list[str],
                     title: str, lang: str = "en") -> go.Figure:
    """Q-values (T, A) of each action along an episode; markers show the action taken."""
    fig = go.Figure()
    steps = np.arange(len(q_values))
    for a, name in enumerate(action_names):
        color = COLORS[a % len(COLORS)]
        fig.add_trace(go.Scatter(x=steps, y=q_values[:, a], mode="lines", name=f"Q({name})",
                                 line=dict(color=color)))
        taken = actions == a
        fig.add_trace(go.Scatter(x=steps[taken], y=q_values[taken, a], mode="markers",
                                 marker=dict(color=color, size=4), name=t("plot.took", lang, action=name),
                                 showlegend=False, hoverinfo="skip"))
    fig.update_layout(title=title, template=TEMPLATE, height=340,
                      margin=dict(l=10, r=10, t=40, b=10), xaxis_title=t("plot.episode_step", lang),
                      yaxis_title=t("plot.q_value", lang), legend=dict(orientation="h", y=-0.25))
    return fig


def episode_gif(frames: list[np.ndarray], width: int = 300, fps: int = 25) -> bytes:
    """rgb_array frames (H, W, 3) uint8 -> an animated GIF, scaled to `width` pixels."""
    from PIL import Image

    if not frames:
        raise ValueError("no frames to animate")
    h, w = frames[0].shape[:2]
    size = (width, max(1, round(h * width / w)))
    images = [Image.fromarray(f).resize(size, Image.Resampling.BILINEAR) for f in frames]
    out = io.BytesIO()
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:],
                   duration=round(1000 / fps), loop=0)
    return out.getvalue()
