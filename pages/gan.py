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
    lang, tr = ui.language(), ui.tr

    st.subheader(tr("page.gen.scores"))
    st.plotly_chart(generative.fid_with_anchors(
        {r["variant"]: r["metrics"]["eval/fid"] for r in runs}, runs[0]["metrics"], lang),
        width="stretch")
    st.caption(tr("page.gen.fid_caption", n=f"{config['fid_n']:,}",
                  acc=f"{runs[0]['metrics']['feature/test_acc']:.2%}")
               + tr("page.gan.fid_caption_tail"))
    st.plotly_chart(generative.class_histograms(
        {r["variant"]: found[r["variant"]]["histogram"] for r in runs},
        inspect_generative.class_names(config["dataset"]), lang), width="stretch")

    st.subheader(tr("page.gen.samples"))
    for column, (variant, artifacts) in zip(st.columns(len(found)), found.items()):
        column.plotly_chart(generative.samples(artifacts["samples"][:32].numpy(), variant),
                            width="stretch")

    st.subheader(tr("page.gan.watch"))
    variant = st.selectbox(tr("page.variant"), list(found), key="gan:watch_variant")
    artifacts = found[variant]
    epochs = artifacts["snapshot_epochs"]
    epoch = st.select_slider(tr("page.gan.after_epoch"), epochs, value=epochs[-1],
                             key="gan:epoch")
    st.plotly_chart(generative.samples(artifacts["snapshots"][epochs.index(epoch)].numpy(),
                                       tr("page.gan.same_noise", variant=variant, epoch=epoch)),
                    width="stretch")

    st.subheader(tr("page.gan.walk"))
    for variant, artifacts in found.items():
        st.plotly_chart(generative.strip(artifacts["interpolation"].numpy(),
                                         [""] * len(artifacts["interpolation"]),
                                         tr("page.gan.slerp", variant=variant)),
                        width="stretch")
    seed = st.number_input(tr("page.gan.new_samples"), 0, 10**6, 0, key="gan:noise_seed")
    for variant, generator in models.items():
        st.plotly_chart(generative.samples(inspect_generative.gan_samples(generator, config, seed),
                                           tr("page.gen.variant_seed", variant=variant,
                                              seed=seed)), width="stretch")

joint_comparison("gan", "Diffusion")

ui.source(card)
