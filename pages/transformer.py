"""Transformer page: GPT with learned or sinusoidal positions on tiny Shakespeare, or an
encoder on sentence sentiment; beside them the best stored recurrent run."""
import streamlit as st
import torch

from engine import registry, ui
from engine.algorithms import lstm, sequence_tasks as seq
from engine.algorithms import transformer
from engine.data.text import load_shakespeare
from engine.plots import text as text_plots

card = registry.card("transformer")
BUILDERS = {"lstm": lstm.build_model, "transformer": transformer.build_model}
ui.header(card)
specs = ui.config_form(card)
task = specs[0].config["task"]
runs = [r for r in ui.run_panel(card, specs + st.session_state.get("transformer:other", []))
        if r["algorithm"] == "transformer"]

# Beside our variants: the best stored recurrent run on the same task, or a button.
rival = seq.best_run(ui.stored_runs("lstm"), task)
if rival is None:
    if st.button(f"Train the LSTM on {task} too (standard preset)", key="transformer:rival"):
        spec = registry.build_spec("lstm", "lstm", "standard", {"task": task})
        st.session_state["transformer:other"] = [spec]
        ui.submit([spec])
        st.rerun()
else:
    rival = {**rival, "variant": f"lstm/{rival['variant']}",
             "spec": {**rival["spec"], "variant": f"lstm/{rival['spec']['variant']}"}}
shown = runs + ([rival] if rival else [])

if task == "sentiment" and shown:
    st.subheader("Test accuracy")
    st.dataframe(ui.metrics_table(card, shown, extra=("test/acc", "val/acc", "best_epoch"))
                 [["variant", "preset", "test/acc", "val/acc", "best_epoch", "params",
                   "train seconds"]], hide_index=True, width="stretch")
ui.comparison(card, shown, curve_metrics=("val/loss", "train/loss"))


def model_of(run):
    found = ui.artifacts(run)
    if found is None:
        st.warning(f"{ui.label(run)}: stored files were damaged; recomputing.")
        return None, None
    builder = BUILDERS[run["algorithm"]]
    return seq.restore(builder, {**run["spec"], "variant": run["variant"].split("/")[-1]},
                       found), found


if shown and task == "charlm":
    st.subheader("Generate text")
    with st.form("transformer:generate"):
        prompt = st.text_input("Prompt", "ROMEO:\n", key="transformer:prompt")
        a, b, c = st.columns(3)
        length = a.slider("Characters", 20, 1000, 300, key="transformer:length")
        temperature = b.slider("Temperature (0 = always the likeliest)", 0.0, 2.0, 0.8, 0.05,
                               key="transformer:temperature")
        top_k = c.number_input("Top-k (0 = all 65)", 0, 65, 0, key="transformer:topk")
        go = st.form_submit_button("Generate")
    if go:
        columns = st.columns(min(len(shown), 3))
        for i, run in enumerate(shown):
            model, _ = model_of(run)
            if model is None:
                continue
            try:
                text = seq.generate(model, load_shakespeare(), prompt, length,
                                    temperature=temperature, top_k=top_k,
                                    context=run["spec"]["config"]["context"],
                                    generator=torch.Generator().manual_seed(0))
            except ValueError as error:
                st.error(str(error))
                break
            with columns[i % len(columns)]:
                st.markdown(f"**{ui.label(run)}**")
                st.code(text, language=None)

if runs:
    st.subheader("Where each position looks")
    run = st.selectbox("Run", runs, format_func=ui.label, key="transformer:inspect")
    default = "ROMEO:\nBut soft, what light" if task == "charlm" else "not a bad film at all"
    text = st.text_input("Input" if task == "charlm" else "Sentence", default,
                         key="transformer:probe")
    model, found = model_of(run)
    if model is not None and text.strip():
        try:
            if task == "charlm":
                text = text[-run["spec"]["config"]["context"]:]
                ids, lengths, tokens = load_shakespeare().encode(text)[None], None, list(text)
            else:
                ids, lengths, tokens = seq.sentence_ids(found["words"], text)
        except ValueError as error:
            st.error(str(error))
        else:
            maps = model.attention(ids, lengths).numpy()  # (layers, heads, T, T)
            st.plotly_chart(text_plots.attention_grid(maps, tokens, "Attention weights (row: "
                            "the position that looks; column: where it looks)"),
                            width="stretch", key="transformer:attention")
            st.caption("Each row sums to 1. In the character model the upper triangle is "
                       "empty: the causal mask hides the future.")

if shown and task == "sentiment":
    st.subheader("Your sentence")
    sentence = st.text_input("A movie-review sentence", "a gorgeous, witty and moving film",
                             key="transformer:sentence")
    probabilities = {}
    for run in shown:
        model, found = model_of(run)
        if model is not None and sentence.strip():
            probabilities[ui.label(run)] = seq.p_positive(model, found["words"], sentence)
    if probabilities:
        st.plotly_chart(text_plots.positive_bars(probabilities, "Probability of positive"),
                        width="stretch", key="transformer:bars")
    run = st.selectbox("Most confident test mistakes of", shown, format_func=ui.label,
                       key="transformer:mistakes")
    found = ui.artifacts(run)
    if found is not None:
        st.dataframe(found["mistakes"], hide_index=True, width="stretch")

ui.source(transformer.SelfAttention, transformer.Transformer, seq.train_charlm)
