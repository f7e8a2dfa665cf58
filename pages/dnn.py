"""DNN page: logistic regression vs a 2-layer MLP vs a deep MLP, on MNIST or Fashion-MNIST."""
import streamlit as st

from engine import plots, registry, ui

card = registry.card("dnn")
ui.header(card)
specs = ui.config_form(card)
runs = ui.run_panel(card, specs)
ui.comparison(card, runs, curve_metrics=("train/loss", "val/acc"))
lang, tr = ui.language(), ui.tr

if runs:
    deep = [r for r in runs if r["variant"] == "deep"]
    if deep:
        st.subheader(tr("page.dnn.vanishing"))
        run = deep[0]
        frame = plots.history_frame(ui.history(run), ui.label(run))
        st.plotly_chart(plots.grouped_curves(
            frame, "grad/", tr("page.dnn.grad_title",
                               activation=run["spec"]["config"]["activation"]), lang=lang),
            width="stretch")
        st.caption(tr("page.dnn.grad_caption"))

    st.subheader(tr("page.wrong"))
    chosen = st.selectbox(tr("page.run"), runs, format_func=ui.label, key="dnn:inspect")
    restored = ui.restored(chosen)
    if restored is not None:
        found = restored.artifacts
        left, right = st.columns(2)
        left.plotly_chart(plots.confusion(found["confusion"].numpy(), found["classes"],
                                          tr("page.confusion"), lang), width="stretch")
        mistakes = found["mistakes"]
        titles = [tr("page.mistake", predicted=found["classes"][p], confidence=f"{c:.0%}",
                     true=found["classes"][t])
                  for p, c, t in zip(mistakes["predicted"].tolist(),
                                     mistakes["confidence"].tolist(), mistakes["true"].tolist())]
        right.plotly_chart(plots.image_grid(mistakes["image"].numpy(), titles, columns=4,
                                            title=tr("page.mistakes")), width="stretch")

ui.source(card)
