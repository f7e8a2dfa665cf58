"""LSTM page: bigram / RNN / GRU / LSTM on tiny Shakespeare, or on sentence sentiment."""
import streamlit as st

from engine import registry, ui
from engine.inspect import text as inspect_text
from engine.plots import text as text_plots
from engine.ui import sequences

card = registry.card("lstm")
ui.header(card)
specs = ui.config_form(card)
task = specs[0].config["task"]
runs, shown = sequences.runs_with_rival(card, specs)
if task == "sentiment" and shown:
    sequences.sentiment_table(card, shown)
ui.comparison(card, shown, curve_metrics=("val/loss", "train/loss"))

if shown and task == "charlm":
    sequences.generation_panel("lstm", shown)
    recurrent = [r for r in runs if r["variant"] != "baseline"]
    if recurrent:
        st.subheader("Inside the recurrent state")
        run = st.selectbox("Run", recurrent, format_func=ui.label, key="lstm:inspect")
        text = st.text_input("Input", "ROMEO:\nBut soft, what light through yonder window "
                             "breaks?", key="lstm:probe")[:200]
        restored = ui.restored(run)
        if restored is not None and text:
            try:
                states = inspect_text.trace(restored.model, inspect_text.encode(text))
            except ValueError as error:
                st.error(ui.escape_markdown(error, 300))
            else:
                a, b = st.columns(2)
                layer = a.number_input("Layer", 1, states["h"].shape[0], 1, key="lstm:layer") - 1
                unit = b.number_input("Unit", 0, states["h"].shape[2] - 1, 0, key="lstm:unit")
                for key in ("h", "c"):
                    if key in states:
                        name = "hidden state h" if key == "h" else "cell state c"
                        st.plotly_chart(text_plots.state_heatmap(
                            states[key][layer].numpy(), text, f"{name}, layer {layer + 1}"),
                            width="stretch", key=f"lstm:heat:{key}")
                series = {k: v[layer, :, unit].numpy() for k, v in states.items()}
                st.plotly_chart(text_plots.unit_gates(series, text, f"unit {unit}: gates and "
                                f"states along the input"), width="stretch", key="lstm:gates")
                st.caption("Gates lie between 0 (closed) and 1 (open). A forget gate near 1 "
                           "keeps the cell's content; units often switch at spaces, line "
                           "ends or inside words.")

if shown and task == "sentiment":
    sequences.sentiment_probe("lstm", shown)

ui.source(card)
