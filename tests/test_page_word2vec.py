"""AppTest for the Word2Vec page: it loads, a quick run started from the page finishes in
the worker process and its results show; neighbour and analogy queries answer from the
stored vectors, and an unknown word gets a one-line message."""
from __future__ import annotations

import pytest

from apptest_tools import open_page, wait_for_results
from engine.markup import escape_markdown

PAGE = "word2vec"


@pytest.mark.slow
def test_quick_run_then_neighbours_and_unknown_word(store_dir):
    at = open_page(PAGE, 60).run()
    at.segmented_control(key="word2vec:preset").set_value("quick").run()
    at.multiselect(key="word2vec:variants").set_value(["skipgram", "torch_skipgram"])
    at.button[0].click().run()
    assert not at.exception
    wait_for_results(at)
    table = at.dataframe[0].value
    assert list(table["variant"]) == ["skipgram", "torch_skipgram"]
    assert (table["vocab/size"] > 500).all()

    at.text_input(key="word2vec:word").set_value("state").run()
    assert not at.exception
    neighbours = [d.value for d in at.dataframe if list(d.value.columns) == ["word", "cosine"]]
    assert len(neighbours) >= 2 and len(neighbours[0]) == 10
    assert "state" not in set(neighbours[0]["word"])

    at.text_input(key="word2vec:word").set_value("xyzzy").run()
    assert not at.exception
    messages = [w.value for w in at.warning]
    escaped = escape_markdown("'xyzzy' is not in the vocabulary")  # typed words are escaped
    assert sum(escaped in m for m in messages) == 2

    at.text_input(key="word2vec:a").set_value("he").run()
    at.text_input(key="word2vec:b").set_value("his").run()
    at.text_input(key="word2vec:c").set_value("she").run()
    assert not at.exception
    assert any("his - he + she" in m.value for m in at.markdown)
