"""LSTM page: bigram / RNN / GRU / LSTM on tiny Shakespeare, or on sentence sentiment."""
import streamlit as st
import torch

from engine import registry, ui
from engine.algorithms import lstm, sequence_tasks as seq
from engine.algorithms import transformer
from engine.data.text import load_shakespeare
from engine.plots import text as text_plots

card, other = registry.card("lstm"), registry.card("transformer")
BUILDERS = {"lstm": lstm.build_model, "transformer": transformer.build_model}
ui.header(card)
specs = ui.config_form(card)
task = specs[0].config["task"]
runs = [r for r in ui.run_panel(card, specs + st.session_state.get("lstm:other", []))
        if r["algorithm"] == "lstm"]

# Beside our variants: the best stored Transformer run on the same task, or a button.
rival = seq.best_run(ui.stored_runs("transformer"), task)
if rival is None:
    if st.button(f"Train the Transformer on {task} too (standard preset)", key="lstm:rival"):
        spec = registry.build_spec("transformer", "learned", "standard", {"task": task})
        st.session_state["lstm:other"] = [spec]
        ui.submit([spec])
        st.rerun()
else:
    rival = {**rival, "variant": f"transformer/{rival['variant']}",
             "spec": {**rival["spec"], "variant": f"transformer/{rival['spec']['variant']}"}}
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
    with st.form("lstm:generate"):
        prompt = st.text_input("Prompt", "ROMEO:\n", key="lstm:prompt")
        a, b, c = st.columns(3)
        length = a.slider("Characters", 20, 1000, 300, key="lstm:length")
        temperature = b.slider("Temperature (0 = always the likeliest)", 0.0, 2.0, 0.8, 0.05,
                               key="lstm:temperature")
        top_k = c.number_input("Top-k (0 = all 65)", 0, 65, 0, key="lstm:topk")
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

    recurrent = [r for r in runs if r["variant"] != "baseline"]
    if recurrent:
        st.subheader("Inside the recurrent state")
        run = st.selectbox("Run", recurrent, format_func=ui.label, key="lstm:inspect")
        text = st.text_input("Input", "ROMEO:\nBut soft, what light through yonder window "
                             "breaks?", key="lstm:probe")[:200]
        model, _ = model_of(run)
        if model is not None and text:
            try:
                states = lstm.trace(model, load_shakespeare().encode(text))
            except ValueError as error:
                st.error(str(error))
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
    st.subheader("Your sentence")
    sentence = st.text_input("A movie-review sentence", "a gorgeous, witty and moving film",
                             key="lstm:sentence")
    probabilities = {}
    for run in shown:
        model, found = model_of(run)
        if model is not None and sentence.strip():
            probabilities[ui.label(run)] = seq.p_positive(model, found["words"], sentence)
    if probabilities:
        st.plotly_chart(text_plots.positive_bars(probabilities, "Probability of positive"),
                        width="stretch", key="lstm:bars")
    run = st.selectbox("Most confident test mistakes of", shown, format_func=ui.label,
                       key="lstm:mistakes")
    found = ui.artifacts(run)
    if found is not None:
        st.dataframe(found["mistakes"], hide_index=True, width="stretch")

ui.source(lstm.CharRNN, lstm.SentenceRNN, seq.train_charlm)
