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

lang, tr = ui.language(), ui.tr
if shown and task == "charlm":
    sequences.generation_panel("transformer", shown)

if runs:
    st.subheader(tr("page.transformer.looks"))
    run = st.selectbox(tr("page.run"), runs, format_func=ui.label, key="transformer:inspect")
    default = "ROMEO:\nBut soft, what light" if task == "charlm" else "not a bad film at all"
    text = st.text_input(tr("page.input") if task == "charlm" else tr("page.sentence"), default,
                         key="transformer:probe")
    restored = ui.restored(run)
    if restored is not None and text.strip():
        maps = None
        try:
            with ui.needs_data():  # a char-LM run stored without its characters reads the corpus
                maps, tokens = inspect_text.attention(restored.model, restored.artifacts,
                                                      run["spec"]["config"], text)
        except ValueError as error:
            st.error(ui.escape_markdown(error, 300))
        if maps is not None:  # (layers, heads, T, T)
            st.plotly_chart(text_plots.attention_grid(
                maps, tokens, tr("page.transformer.attention_title"), lang),
                width="stretch", key="transformer:attention")
            st.caption(tr("page.transformer.attention_caption"))

if shown and task == "sentiment":
    sequences.sentiment_probe("transformer", shown)

ui.source(card)
