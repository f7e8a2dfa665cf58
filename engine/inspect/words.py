"""Inspecting finished Word2Vec runs: the stored vectors need no model, so this module
only names the queries the page asks of them (nearest neighbours, analogies), which
engine/word_eval.py computes for the training-time scores too."""
from engine.word_eval import UnknownWord, neighbours, solve_analogy  # noqa: F401
