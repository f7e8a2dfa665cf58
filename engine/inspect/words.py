"""Inspecting finished Word2Vec runs: the stored vectors need no model, so this module
only names the queries the page asks of them (nearest neighbours, analogies), which
engine/word_eval.py computes for the training-time scores too."""
from engine.word_eval import UnknownWord, neighbours, solve_analogy  # noqa: F401

NEIGHBOUR_WORD = "money"  # the page's first nearest-neighbour query
# a is to b as c is to ?: men - man + woman. Every shipped standard and full run answers
# "women" first; the famous king - man + woman puts "queen" third at best, since the Brown
# corpus (1 M words) names few kings and queens.
ANALOGY = ("man", "men", "woman")
ANALOGY_ANSWER = "women"
DEMO_WORDS = (NEIGHBOUR_WORD, *ANALOGY, ANALOGY_ANSWER)  # every preset's vocabulary has these
