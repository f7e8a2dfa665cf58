"""Diffusion page: DDPM with linear and cosine schedules, ancestral sampling vs DDIM,
scored with the same yardstick as the GAN page."""
import streamlit as st

from engine import registry, ui
from engine.inspect import generative as inspect_generative
from engine.plots import generative
from engine.ui.generative import joint_comparison

card = registry.card("diffusion")
ui.header(card)
specs = ui.config_form(card)
runs = ui.run_panel(card, specs)
ui.comparison(card, runs, curve_metrics=("train/loss",))

restored = ui.restored_all(runs)  # damaged runs are named, requeued and left out
runs = [r.run for r in restored]
if runs:
    found = {r.run["variant"]: r.artifacts for r in restored}
    models = {r.run["variant"]: r.model for r in restored}
    config = runs[0]["spec"]["config"]
    lang, tr = ui.language(), ui.tr

    st.subheader(tr("page.gen.scores"))
    st.plotly_chart(generative.fid_with_anchors(
        {r["variant"]: r["metrics"]["eval/fid"] for r in runs}, runs[0]["metrics"], lang),
        width="stretch")
    st.caption(tr("page.gen.fid_caption", n=f"{config['fid_n']:,}",
                  acc=f"{runs[0]['metrics']['feature/test_acc']:.2%}")
               + tr("page.diffusion.sample_times", times=", ".join(
                   f"{r['variant']} {r['metrics']['time/sample_ms_per_image']:.1f} ms"
                   for r in runs)))
    st.plotly_chart(generative.class_histograms(
        {r["variant"]: found[r["variant"]]["histogram"] for r in runs},
        inspect_generative.class_names(config["dataset"]), lang), width="stretch")

    st.subheader(tr("page.gen.samples"))
    for column, (variant, artifacts) in zip(st.columns(len(found)), found.items()):
        column.plotly_chart(generative.samples(artifacts["samples"][:32].numpy(), variant),
                            width="stretch")

    st.subheader(tr("page.diffusion.noise"))
    by_schedule = {inspect_generative.schedule_of(v): a for v, a in found.items()}
    st.plotly_chart(generative.schedules({s: a["alpha_bar"].numpy()
                                          for s, a in by_schedule.items()}, lang),
                    width="stretch")
    for schedule, artifacts in by_schedule.items():
        captions = [f"t={t}" for t in artifacts["forward_t"]]
        st.plotly_chart(generative.strip(artifacts["forward"].numpy(), captions,
                                         tr("page.diffusion.forward", schedule=schedule)),
                        width="stretch",
                        key=f"diffusion:forward:{schedule}")
    for variant, artifacts in found.items():
        reverse = artifacts["reverse"].numpy()
        st.plotly_chart(generative.strip(reverse, ["x_T"] + [""] * (len(reverse) - 2) + ["x_0"],
                                         tr("page.diffusion.reverse", variant=variant)),
                        width="stretch", key=f"diffusion:reverse:{variant}")

    st.subheader(tr("page.diffusion.sample_new"))
    left, right = st.columns(2)
    variant = left.selectbox(tr("page.variant"), list(found), key="diffusion:sample_variant")
    seed = right.number_input(tr("page.diffusion.noise_seed"), 0, 10**6, 0,
                              key="diffusion:noise_seed")
    if st.button(tr("page.diffusion.sample8"), key="diffusion:sample"):
        steps = config["ddim_steps" if variant.startswith("ddim") else "timesteps"]
        with st.spinner(tr("page.diffusion.denoising", steps=steps)):
            images = inspect_generative.diffusion_samples(models[variant], variant, config, seed)
        st.plotly_chart(generative.samples(images, tr("page.gen.variant_seed", variant=variant,
                                                      seed=seed)), width="stretch")

joint_comparison("diffusion", "GAN")

ui.source(card)
