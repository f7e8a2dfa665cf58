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
lang, tr = ui.language(), ui.tr

if runs:
    st.subheader(tr("page.resnet.grad"))
    st.caption(tr("page.resnet.grad_caption"))
    for column, run in zip(st.columns(len(runs)), runs):
        frame = plots.history_frame(ui.history(run), ui.label(run))
        depth = run["spec"]["config"]["depth"]
        column.plotly_chart(plots.grouped_curves(frame, "grad/", f"{run['variant']}-{depth}",
                                                      lang=lang),
                            width="stretch")

    config = specs[0].config
    sweep = inspect_vision.depth_sweep(ui.stored_runs("resnet"), config)
    depths = sorted({r["spec"]["config"]["depth"] for r in sweep})
    st.subheader(tr("page.resnet.depths"))
    if len(depths) < 2:
        st.info(tr("page.resnet.one_depth", depth=config["depth"]))
    else:
        table = pd.DataFrame([{"depth": r["spec"]["config"]["depth"], "variant": r["variant"],
                               "test/acc": r["metrics"]["test/acc"],
                               "train/last_epoch_loss": r["metrics"]["train/last_epoch_loss"],
                               "params": r["params"], "train seconds": r["train_seconds"]}
                              for r in sweep])
        st.dataframe(ui.headers(table), hide_index=True, width="stretch")
        history = pd.concat([plots.history_frame(ui.history(r), f"{r['variant']}-"
                                                 f"{r['spec']['config']['depth']}")
                             for r in sweep])
        left, right = st.columns(2)
        left.plotly_chart(plots.curves(history, "train/loss", title=tr("metric.train/loss"),
                                       lang=lang),
                          width="stretch")
        right.plotly_chart(vision.params_vs_accuracy(table.assign(
            run=table["variant"] + "-" + table["depth"].astype(str)), label="run", lang=lang),
            width="stretch")
        st.caption(tr("page.resnet.claim"))

ui.source(card)
