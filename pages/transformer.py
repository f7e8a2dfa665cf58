"""Transformer page: GPT with learned or sinusoidal positions on tiny Shakespeare, or an
encoder on sentence sentiment; beside them the best stored recurrent run."""
import streamlit as st

from engine import registry, ui
from engine.inspect import text as inspect_text
from engine.plots import text as text_plots
from engine.ui import sequences

card = registry.card("transformer")
ui.header(card)
specs = ui.config_form(card)
task = specs[0].config["task"]
runs, shown = sequences.runs_with_rival(card, specs)
if task == "sentiment" and shown:
    sequences.sentiment_table(card, shown)
ui.comparison(card, shown, curve_metrics=("val/loss", "train/loss"))

if shown and task == "charlm":
    sequences.generation_panel("transformer", shown)

if runs:
    st.subheader("Where each position looks")
    run = st.selectbox("Run", runs, format_func=ui.label, key="transformer:inspect")
    default = "ROMEO:\nBut soft, what light" if task == "charlm" else "not a bad film at all"
    text = st.text_input("Input" if task == "charlm" else "Sentence", default,
                         key="transformer:probe")
    restored = ui.restored(run)
    if restored is not None and text.strip():
        try:
            maps, tokens = inspect_text.attention(restored.model, restored.artifacts,
                                                  run["spec"]["config"], text)
        except ValueError as error:
            st.error(str(error))
        else:  # maps: (layers, heads, T, T)
            st.plotly_chart(text_plots.attention_grid(maps, tokens, "Attention weights (row: "
                            "the position that looks; column: where it looks)"),
                            width="stretch", key="transformer:attention")
            st.caption("Each row sums to 1. In the character model the upper triangle is "
                       "empty: the causal mask hides the future.")

if shown and task == "sentiment":
    sequences.sentiment_probe("transformer", shown)

ui.source(card)
