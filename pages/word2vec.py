"""Word2Vec page: gensim skip-gram and CBOW beside our PyTorch skip-gram, on NLTK corpora."""
import pandas as pd
import streamlit as st

from engine import registry, ui
from engine.inspect import words
from engine.plots import words as word_plots

card = registry.card("word2vec")
ui.header(card)
specs = ui.config_form(card)
runs = ui.run_panel(card, specs)
ui.comparison(card, runs, curve_metrics=("train/loss", "eval/wordsim353"))

restored = ui.restored_all(runs)  # damaged runs are named, requeued and left out
found = {r.run["variant"]: r.artifacts for r in restored}
done = [r.run for r in restored]

if found:
    st.subheader("Better than chance?")
    bars = [{"variant": r["variant"], "metric": label, "trained": r["metrics"][key],
             "random": r["metrics"][f"{key}_random"]}
            for r in done for key, label in (("eval/wordsim353", "WordSim-353 Spearman"),
                                             ("eval/analogy", "analogy accuracy"))]
    st.plotly_chart(word_plots.against_random(bars), width="stretch", key="word2vec:random")
    first = done[0]["metrics"]
    st.caption(
        f"Scored on the {first['eval/wordsim353_coverage']:.0%} of WordSim-353 pairs and the "
        f"{first['eval/analogy_coverage']:.0%} of Google analogy questions whose words are in "
        f"the vocabulary ({first['vocab/size']:,.0f} words from {first['corpus/words']:,.0f} "
        "words of text); the grey bars are random vectors for the same vocabulary.")

    st.subheader("Nearest neighbours")
    word = st.text_input("Word", words.NEIGHBOUR_WORD, key="word2vec:word")
    columns = st.columns(len(found))
    for column, (variant, art) in zip(columns, found.items()):
        column.markdown(f"**{variant}**")
        try:
            rows = words.neighbours(art["words"], art["vectors"], word, k=10)
        except words.UnknownWord as error:
            column.warning(ui.escape_markdown(error, 300))
        else:
            column.dataframe(pd.DataFrame(rows, columns=["word", "cosine"]), hide_index=True,
                             width="stretch", key=f"word2vec:neighbours:{variant}")

    st.subheader("Analogies: a is to b as c is to ?")
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
            column.warning(ui.escape_markdown(error, 300))
        else:
            column.dataframe(pd.DataFrame(rows, columns=["word", "cosine"]), hide_index=True,
                             width="stretch", key=f"word2vec:analogy:{variant}")

    st.subheader("The article's example: similarity('the', 'of')")
    st.dataframe(pd.DataFrame([{"variant": r["variant"],
                                "similarity('the', 'of')": r["metrics"].get(
                                    "eval/similarity_the_of")} for r in done]),
                 hide_index=True)
    st.caption("Cosine similarity of the two most frequent words. Both are function words "
               "that appear in the same kinds of places, so they come out close; with "
               "subsampling they are mostly skipped during training.")

    st.subheader("A map of the most frequent words")
    left, right = st.columns([3, 1])
    variant = left.selectbox("Variant", list(found), key="word2vec:map_variant")
    method = right.radio("Projection", ["t-SNE", "PCA"], horizontal=True,
                         key="word2vec:projection")
    points = found[variant]["map"]
    if points:
        xy = points["tsne" if method == "t-SNE" else "pca"]
        st.plotly_chart(word_plots.word_map(points["words"], xy.numpy(), points["cluster"].tolist(),
                                            f"{variant}: {len(points['words'])} most frequent "
                                            f"content words ({method})"), width="stretch",
                        key="word2vec:map")
        st.caption("Colours are k-means clusters of the vectors (not of the 2-D positions); "
                   "hover a point to read its word. Stop words are left out.")
    else:
        st.info("Too few content words in this run's vocabulary to draw a map.")

ui.source(card)
