"""GAN page: the article's MLP GAN vs DCGAN, scored with the shared generative yardstick."""
import streamlit as st

from engine import registry, ui
from engine.inspect import generative as inspect_generative
from engine.plots import generative
from engine.ui.generative import joint_comparison

card = registry.card("gan")
ui.header(card)
specs = ui.config_form(card)
runs = ui.run_panel(card, specs)
ui.comparison(card, runs, curve_metrics=("train/loss_d", "train/loss_g"))

restored = ui.restored_all(runs)  # damaged runs are named, requeued and left out
runs = [r.run for r in restored]
if runs:
    found = {r.run["variant"]: r.artifacts for r in restored}
    models = {r.run["variant"]: r.model for r in restored}
    config = runs[0]["spec"]["config"]

    st.subheader("Scores against the anchors")
    st.plotly_chart(generative.fid_with_anchors(
        {r["variant"]: r["metrics"]["eval/fid"] for r in runs}, runs[0]["metrics"]),
        width="stretch")
    st.caption(f"FID between {config['fid_n']:,} samples and {config['fid_n']:,} real test "
               "images, on the penultimate features of our own CNN classifier (test accuracy "
               f"{runs[0]['metrics']['feature/test_acc']:.2%}). The floor is two disjoint sets "
               "of real digits; the baselines draw pixels from Gaussians fitted to the data.")
    st.plotly_chart(generative.class_histograms(
        {r["variant"]: found[r["variant"]]["histogram"] for r in runs},
        inspect_generative.class_names(config["dataset"])), width="stretch")

    st.subheader("Samples")
    for column, (variant, artifacts) in zip(st.columns(len(found)), found.items()):
        column.plotly_chart(generative.samples(artifacts["samples"][:32].numpy(), variant),
                            width="stretch")

    st.subheader("Watch it learn")
    variant = st.selectbox("Variant", list(found), key="gan:watch_variant")
    artifacts = found[variant]
    epochs = artifacts["snapshot_epochs"]
    epoch = st.select_slider("After epoch", epochs, value=epochs[-1], key="gan:epoch")
    st.plotly_chart(generative.samples(artifacts["snapshots"][epochs.index(epoch)].numpy(),
                                       f"{variant}: the same 16 noise vectors after epoch "
                                       f"{epoch}"), width="stretch")

    st.subheader("Walking between two samples")
    for variant, artifacts in found.items():
        st.plotly_chart(generative.strip(artifacts["interpolation"].numpy(),
                                         [""] * len(artifacts["interpolation"]),
                                         f"{variant}: spherical interpolation of the noise"),
                        width="stretch")
    seed = st.number_input("Draw 16 new samples from noise seed", 0, 10**6, 0, key="gan:noise_seed")
    for variant, generator in models.items():
        st.plotly_chart(generative.samples(inspect_generative.gan_samples(generator, config, seed),
                                           f"{variant}, seed {seed}"), width="stretch")

joint_comparison("gan", "Diffusion")

ui.source(card)
