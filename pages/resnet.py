"""ResNet page: a plain CNN and a ResNet of the same depth, trained with the same budget."""
import pandas as pd
import streamlit as st

from engine import plots, registry, ui
from engine.inspect import vision as inspect_vision
from engine.plots import vision

card = registry.card("resnet")
ui.header(card)
specs = ui.config_form(card)
runs = ui.run_panel(card, specs)
ui.comparison(card, runs, curve_metrics=("train/loss", "train/acc"))

if runs:
    st.subheader("Gradient norm per stage")
    st.caption("L2 norm of the gradient reaching each stage's weights during training "
               "(stem next to the input, head at the output). Without skips, the early "
               "stages of a deep plain network receive a weaker, noisier signal.")
    for column, run in zip(st.columns(len(runs)), runs):
        frame = plots.history_frame(ui.history(run), ui.label(run))
        depth = run["spec"]["config"]["depth"]
        column.plotly_chart(plots.grouped_curves(frame, "grad/", f"{run['variant']}-{depth}"),
                            width="stretch")

    config = specs[0].config
    sweep = inspect_vision.depth_sweep(ui.stored_runs("resnet"), config)
    depths = sorted({r["spec"]["config"]["depth"] for r in sweep})
    st.subheader("Across depths, same budget")
    if len(depths) < 2:
        st.info(f"Only depth {config['depth']} is trained with these settings. Pick another "
                "depth above and train again to see plain and residual networks side by side "
                "as depth grows.")
    else:
        table = pd.DataFrame([{"depth": r["spec"]["config"]["depth"], "variant": r["variant"],
                               "test/acc": r["metrics"]["test/acc"],
                               "train/last_epoch_loss": r["metrics"]["train/last_epoch_loss"],
                               "params": r["params"], "train seconds": r["train_seconds"]}
                              for r in sweep])
        st.dataframe(table, hide_index=True, width="stretch")
        history = pd.concat([plots.history_frame(ui.history(r), f"{r['variant']}-"
                                                 f"{r['spec']['config']['depth']}")
                             for r in sweep])
        left, right = st.columns(2)
        left.plotly_chart(plots.curves(history, "train/loss", title="Training loss"),
                          width="stretch")
        right.plotly_chart(vision.params_vs_accuracy(table.assign(
            run=table["variant"] + "-" + table["depth"].astype(str)), label="run"),
            width="stretch")
        st.caption("The article's claim: adding layers to a plain network makes even its "
                   "training loss worse, while the residual network keeps improving with depth.")

ui.source(card)
