"""Inspecting finished Word2Vec runs: the stored vectors need no model, so this module
only names the queries the page asks of them (nearest neighbours, analogies), which
engine/word_eval.py computes for the training-time scores too."""
from engine.word_eval import UnknownWord, neighbours, solve_analogy  # noqa: F401

NEIGHBOUR_WORD = "money"  # the page's first nearest-neighbour query
ANALOGY = ("man", "king", "woman")  # a is to b as c is to ?: the classic, king - man + woman
DEMO_WORDS = (NEIGHBOUR_WORD, *ANALOGY, "queen")  # every preset's vocabulary has these
