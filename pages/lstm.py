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

lang, tr = ui.language(), ui.tr
if shown and task == "charlm":
    sequences.generation_panel("lstm", shown)
    recurrent = [r for r in runs if r["variant"] != "baseline"]
    if recurrent:
        st.subheader(tr("page.lstm.inside"))
        gated = next((i for i, r in enumerate(recurrent) if r["variant"] == "lstm"), 0)
        run = st.selectbox(tr("page.run"), recurrent, index=gated, format_func=ui.label,
                           key="lstm:inspect")  # opens on the LSTM: the rnn has no gates
        text = st.text_input(tr("page.input"), "ROMEO:\nBut soft, what light through yonder window "
                             "breaks?", key="lstm:probe")[:200]
        restored = ui.restored(run)
        if restored is not None and text:
            states = None
            try:  # the run's stored characters; a run stored without them reads the corpus
                with ui.needs_data():
                    states = inspect_text.trace(restored.model, inspect_text.encode(
                        text, restored.artifacts.get("chars")))
            except ValueError as error:
                st.error(ui.escape_markdown(error, 300))
            if states is not None:
                a, b = st.columns(2)
                layer = a.number_input(tr("page.lstm.layer"), 1, states["h"].shape[0], 1,
                                       key="lstm:layer") - 1
                unit = b.number_input(tr("page.lstm.unit"), 0, states["h"].shape[2] - 1, 0,
                                      key="lstm:unit")
                for key in ("h", "c"):
                    if key in states:
                        name = tr("page.lstm.hidden") if key == "h" else tr("page.lstm.cell")
                        st.plotly_chart(text_plots.state_heatmap(
                            states[key][layer].numpy(), text,
                            tr("page.lstm.state_title", name=name, layer=layer + 1), lang),
                            width="stretch", key=f"lstm:heat:{key}")
                series = {k: v[layer, :, unit].numpy() for k, v in states.items()}
                st.plotly_chart(text_plots.unit_gates(
                    series, text, tr("page.lstm.gates_title", unit=unit), lang),
                    width="stretch", key="lstm:gates")
                st.caption(tr("page.lstm.gates_caption"))

if shown and task == "sentiment":
    sequences.sentiment_probe("lstm", shown)

ui.source(card)
