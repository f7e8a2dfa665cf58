"""Page parts shared by the LSTM and Transformer pages: the other family's best run beside
ours, text generation, and the sentiment probe. Both pages call these with their own card."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from engine import registry, ui
from engine.inspect import text
from engine.plots import text as text_plots

RIVAL = {"lstm": ("transformer", "learned", "Transformer"), "transformer": ("lstm", "lstm", "LSTM")}
TR = ui.tr


def runs_with_rival(card, specs) -> tuple[list[dict], list[dict]]:
    """(our finished runs, our runs plus the other family's best run on the same task).
    Without a stored rival run, a button trains one at its standard preset."""
    task = specs[0].config["task"]
    other, other_variant, other_title = RIVAL[card.key]
    extra_key = f"{card.key}:other"
    runs = [r for r in ui.run_panel(card, specs + st.session_state.get(extra_key, []))
            if r["algorithm"] == card.key]
    rival = text.best_run(ui.stored_runs(other), task)
    if rival is None:
        if st.button(TR("seq.train_rival", other=other_title, task=task),
                     key=f"{card.key}:rival"):
            spec = registry.build_spec(other, other_variant, "standard", {"task": task})
            st.session_state[extra_key] = [spec]
            ui.submit([spec])
            st.rerun()
        return runs, runs
    named = f"{other}/{rival['variant']}"  # so the table and legends say which family
    rival = {**rival, "variant": named, "spec": {**rival["spec"], "variant": named}}
    return runs, runs + [rival]


def sentiment_table(card, shown: list[dict]) -> None:
    st.subheader(TR("metric.test/acc"))
    table = ui.metrics_table(card, shown, extra=("test/acc", "val/acc", "best_epoch"))
    st.dataframe(ui.headers(table[["variant", "preset", "test/acc", "val/acc", "best_epoch",
                                   "params", "train seconds"]]), hide_index=True, width="stretch")


def generation_panel(key: str, shown: list[dict]) -> None:
    """Prompt, length, temperature and top-k; every run's continuation side by side."""
    st.subheader(TR("seq.generate_title"))
    with st.form(f"{key}:generate"):
        prompt = st.text_input(TR("seq.prompt"), "ROMEO:\n", key=f"{key}:prompt")
        a, b, c = st.columns(3)
        length = a.slider(TR("seq.characters"), 20, 1000, 300, key=f"{key}:length")
        temperature = b.slider(TR("seq.temperature"), 0.0, 2.0, 0.8, 0.05,
                               key=f"{key}:temperature")
        top_k = c.number_input(TR("seq.top_k"), 0, 65, 0, key=f"{key}:topk")
        go = st.form_submit_button(TR("seq.generate"))
    if not go:
        return
    columns = st.columns(min(len(shown), 3))
    for i, restored in enumerate(ui.restored_all(shown)):
        continuation = None
        try:
            with ui.needs_data(), st.spinner(TR("seq.writing", run=ui.label(restored.run),
                                                n=length)):
                continuation = text.generate(
                    restored.model, prompt, length, temperature=temperature, top_k=top_k,
                    context=restored.run["spec"]["config"]["context"],
                    chars=restored.artifacts.get("chars"))  # stored with the run: no corpus
        except ValueError as error:
            st.error(ui.escape_markdown(error, 300))
            return
        if continuation is None:
            return  # the corpus is missing: needs_data said so
        with columns[i % len(columns)]:
            st.markdown(f"**{ui.label(restored.run)}**")
            st.code(continuation, language=None, wrap_lines=True)


def sentiment_probe(key: str, shown: list[dict]) -> None:
    """A visitor's sentence -> each run's probability of positive; a run's worst mistakes."""
    st.subheader(TR("seq.your_sentence"))
    sentence = st.text_input(TR("seq.review_sentence"), "a gorgeous, witty and moving film",
                             key=f"{key}:sentence")
    restored = ui.restored_all(shown)
    if sentence.strip() and restored:
        probabilities = {ui.label(r.run): text.p_positive(r.model, r.artifacts["words"], sentence)
                         for r in restored}
        st.plotly_chart(text_plots.positive_bars(probabilities, TR("seq.p_positive_title"),
                                                 ui.language()),
                        width="stretch", key=f"{key}:bars")
    run = st.selectbox(TR("seq.mistakes_of"), shown, format_func=ui.label,
                       key=f"{key}:mistakes")
    found = ui.restored(run)
    if found is not None:
        st.dataframe(ui.headers(pd.DataFrame(found.artifacts["mistakes"])), hide_index=True, width="stretch")
