"""Word2Vec page: gensim skip-gram and CBOW beside our PyTorch skip-gram, on NLTK corpora."""
import pandas as pd
import streamlit as st

from engine import registry, ui
from engine.i18n import card_text
from engine.inspect import words
from engine.plots import words as word_plots

card = registry.card("word2vec")
ui.header(card)
specs = ui.config_form(card)
runs = ui.run_panel(card, specs)
ui.comparison(card, runs, curve_metrics=("train/loss", "eval/wordsim353"))
lang, tr = ui.language(), ui.tr

restored = ui.restored_all(runs)  # damaged runs are named, requeued and left out
found = {r.run["variant"]: r.artifacts for r in restored}
done = [r.run for r in restored]

if found:
    st.subheader(tr("page.word2vec.chance"))
    bars = [{"variant": r["variant"], "metric": card_text.metric_label(card, key, lang),
             "trained": r["metrics"][key], "random": r["metrics"][f"{key}_random"]}
            for r in done for key in ("eval/wordsim353", "eval/analogy")]
    st.plotly_chart(word_plots.against_random(bars, lang), width="stretch", key="word2vec:random")
    first = done[0]["metrics"]
    st.caption(tr("page.word2vec.chance_caption",
                  wordsim=f"{first['eval/wordsim353_coverage']:.0%}",
                  analogy=f"{first['eval/analogy_coverage']:.0%}",
                  vocab=f"{first['vocab/size']:,.0f}", words=f"{first['corpus/words']:,.0f}"))

    st.subheader(tr("page.word2vec.neighbours"))
    word = st.text_input(tr("col.word"), words.NEIGHBOUR_WORD, key="word2vec:word")
    columns = st.columns(len(found))
    for column, (variant, art) in zip(columns, found.items()):
        column.markdown(f"**{variant}**")
        try:
            rows = words.neighbours(art["words"], art["vectors"], word, k=10)
        except words.UnknownWord as error:
            column.warning(ui.escape_markdown(error.text(lang), 300))
        else:
            column.dataframe(ui.headers(pd.DataFrame(rows, columns=["word", "cosine"])),
                             hide_index=True, width="stretch",
                             key=f"word2vec:neighbours:{variant}")

    st.subheader(tr("page.word2vec.analogies"))
    left, middle, right = st.columns(3)
    a = left.text_input("a", words.ANALOGY[0], key="word2vec:a")
    b = middle.text_input("b", words.ANALOGY[1], key="word2vec:b")
    c = right.text_input("c", words.ANALOGY[2], key="word2vec:c")
    columns = st.columns(len(found))
    for column, (variant, art) in zip(columns, found.items()):
        column.markdown(f"**{variant}**: " + " - ".join(map(ui.escape_markdown, (b, a)))
                        + f" + {ui.escape_markdown(c)} =")
        try:
            rows = words.solve_analogy(art["words"], art["vectors"], a, b, c, k=5)
        except words.UnknownWord as error:
            column.warning(ui.escape_markdown(error.text(lang), 300))
        else:
            column.dataframe(ui.headers(pd.DataFrame(rows, columns=["word", "cosine"])),
                             hide_index=True, width="stretch",
                             key=f"word2vec:analogy:{variant}")

    st.subheader(tr("page.word2vec.the_of"))
    st.dataframe(ui.headers(pd.DataFrame([{"variant": r["variant"],
                                           "similarity('the', 'of')": r["metrics"].get(
                                               "eval/similarity_the_of")} for r in done])),
                 hide_index=True)
    st.caption(tr("page.word2vec.the_of_caption"))

    st.subheader(tr("page.word2vec.map"))
    left, right = st.columns([3, 1])
    variant = left.selectbox(tr("page.variant"), list(found), key="word2vec:map_variant")
    method = right.radio(tr("page.word2vec.projection"), ["t-SNE", "PCA"], horizontal=True,
                         key="word2vec:projection")
    points = found[variant]["map"]
    if points:
        xy = points["tsne" if method == "t-SNE" else "pca"]
        st.plotly_chart(word_plots.word_map(
            points["words"], xy.numpy(), points["cluster"].tolist(),
            tr("page.word2vec.map_title", variant=variant, n=len(points["words"]), method=method),
            lang=lang), width="stretch", key="word2vec:map")
        st.caption(tr("page.word2vec.map_caption"))
    else:
        st.info(tr("page.word2vec.no_map"))

ui.source(card)
