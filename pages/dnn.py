"""DNN page: logistic regression vs a 2-layer MLP vs a deep MLP, on MNIST or Fashion-MNIST."""
import streamlit as st

from engine import plots, registry, ui

card = registry.card("dnn")
ui.header(card)
specs = ui.config_form(card)
runs = ui.run_panel(card, specs)
ui.comparison(card, runs, curve_metrics=("train/loss", "val/acc"))

if runs:
    deep = [r for r in runs if r["variant"] == "deep"]
    if deep:
        st.subheader("Vanishing gradients in the deep variant")
        run = deep[0]
        frame = plots.history_frame(ui.history(run), ui.label(run))
        st.plotly_chart(plots.grouped_curves(frame, "grad/", "Gradient norm per layer "
                        f"({run['spec']['config']['activation']}; layer_01 is next to the "
                        "input)"), width="stretch")
        st.caption("With sigmoid or tanh the layers near the input get gradients orders of "
                   "magnitude smaller than the last ones, so they learn slowly. Set the "
                   "activation to relu and train again to compare.")

    st.subheader("Where each variant goes wrong")
    chosen = st.selectbox("Run", runs, format_func=ui.label, key="dnn:inspect")
    restored = ui.restored(chosen)
    if restored is not None:
        found = restored.artifacts
        left, right = st.columns(2)
        left.plotly_chart(plots.confusion(found["confusion"].numpy(), found["classes"],
                                          "Confusion matrix (test set)"), width="stretch")
        mistakes = found["mistakes"]
        titles = [f"{found['classes'][p]} ({c:.0%}), true {found['classes'][t]}"
                  for p, c, t in zip(mistakes["predicted"].tolist(),
                                     mistakes["confidence"].tolist(), mistakes["true"].tolist())]
        right.plotly_chart(plots.image_grid(mistakes["image"].numpy(), titles, columns=4,
                                            title="Most confident mistakes"), width="stretch")

ui.source(card)
