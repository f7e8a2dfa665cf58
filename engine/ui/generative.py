"""The part the GAN and Diffusion pages share: both families judged by one yardstick."""
from __future__ import annotations

import streamlit as st

from engine import ui
from engine.plots import generative


def joint_comparison(key: str, other_page: str) -> None:
    """Latest stored run of every GAN and diffusion model at one preset: one table of FID,
    confidence, histogram, times and params, and their sample grids side by side."""
    st.subheader("GAN and diffusion, one yardstick")
    both = ui.stored_runs("gan") + ui.stored_runs("diffusion")
    if not both:
        st.info(f"Train a preset here and on the {other_page} page to compare them.")
        return
    presets = sorted({r["spec"]["preset"] for r in both})
    preset = st.selectbox("Preset", presets, key=f"{key}:joint_preset",
                          index=presets.index("standard") if "standard" in presets else 0)
    chosen = generative.latest_per_model(both, preset)
    st.dataframe(generative.generative_table(chosen), hide_index=True, width="stretch")
    for column, run in zip(st.columns(len(chosen)), chosen):
        restored = ui.restored(run)
        if restored is not None:
            column.plotly_chart(generative.samples(restored.artifacts["samples"][:16].numpy(),
                                                   f"{run['algorithm']}/{run['variant']}",
                                                   columns=4), width="stretch")
