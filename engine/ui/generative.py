"""The part the GAN and Diffusion pages share: both families judged by one yardstick."""
from __future__ import annotations

import streamlit as st

from engine import i18n, ui
from engine.plots import generative


def joint_comparison(key: str, other_page: str) -> None:
    """Latest stored run of every GAN and diffusion model at one preset: one table of FID,
    confidence, histogram, times and params, and their sample grids side by side."""
    lang = ui.language()
    st.subheader(ui.tr("gen.joint"))
    both = ui.stored_runs("gan") + ui.stored_runs("diffusion")
    if not both:
        st.info(ui.tr("gen.joint_empty", other=other_page))
        return
    presets = sorted({r["spec"]["preset"] for r in both})
    preset = st.selectbox(ui.tr("ui.preset"), presets, key=f"{key}:joint_preset",
                          format_func=lambda p: i18n.preset_name(p, lang),
                          index=presets.index("standard") if "standard" in presets else 0)
    chosen = generative.latest_per_model(both, preset)
    st.dataframe(ui.headers(generative.generative_table(chosen)), hide_index=True,
                 width="stretch")
    for column, run in zip(st.columns(len(chosen)), chosen):
        restored = ui.restored(run)
        if restored is not None:
            column.plotly_chart(generative.samples(restored.artifacts["samples"][:16].numpy(),
                                                   f"{run['algorithm']}/{run['variant']}",
                                                   columns=4), width="stretch")
