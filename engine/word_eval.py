"""Word-vector benchmarks on plain tensors, so gensim's vectors, ours and random ones are
scored by one piece of code: WordSim-353 (Spearman correlation between human similarity
ratings and cosine similarity) and the Google analogy questions (a : b :: c : ?, answered
by the word nearest to b - a + c, "3CosAdd"). Both files come with gensim
(gensim.test.utils.datapath). Like gensim's own evaluators, matching ignores case, pairs or
questions with a word out of vocabulary are skipped, and the share kept is the coverage.
"""
from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

from engine.i18n import Said


@functools.lru_cache(maxsize=1)
def wordsim_pairs() -> list[tuple[str, str, float]]:
    """The 353 (word, word, mean human rating 0-10) rows of wordsim353.tsv, lower-cased."""
    from gensim.test.utils import datapath

    rows = []
    with open(datapath("wordsim353.tsv"), encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#") or not line.strip():
                continue
            a, b, score = line.rstrip("\n").split("\t")
            rows.append((a.lower(), b.lower(), float(score)))
    return rows


@functools.lru_cache(maxsize=1)
def analogy_questions() -> list[tuple[str, str, str, str]]:
    """The 19,544 questions of questions-words.txt (a, b, c, expected), lower-cased."""
    from gensim.test.utils import datapath

    rows = []
    with open(datapath("questions-words.txt"), encoding="utf-8") as handle:
        for line in handle:
            if line.startswith(":"):  # a section header such as ": capital-common-countries"
                continue
            rows.append(tuple(line.lower().split()))
    return rows


def case_index(words: list[str]) -> dict[str, int]:
    """lower-cased word -> row of its most frequent spelling (words come most frequent first)."""
    index: dict[str, int] = {}
    for i, word in enumerate(words):
        index.setdefault(word.lower(), i)
    return index


# Two fixed halves of WordSim-353 so settings can be tuned on one and judged on the other:
# "tune" holds the file's even rows (0, 2, ...), "test" its odd rows.
HALVES = {"tune": 0, "test": 1}


def wordsim(words: list[str], vectors: torch.Tensor,
            half: str | None = None) -> tuple[float, float]:
    """(Spearman rho, coverage) of cosine similarity against the WordSim-353 ratings, on
    all 353 pairs or on one of HALVES."""
    from scipy.stats import spearmanr

    index = case_index(words)
    rows = wordsim_pairs() if half is None else wordsim_pairs()[HALVES[half]::2]
    pairs = [(index[a], index[b], s) for a, b, s in rows if a in index and b in index]
    coverage = len(pairs) / len(rows)
    if len(pairs) < 3:
        return 0.0, coverage
    unit = F.normalize(vectors.float(), dim=1)
    left = torch.tensor([p[0] for p in pairs])
    right = torch.tensor([p[1] for p in pairs])
    cosine = (unit[left] * unit[right]).sum(1)
    rho = spearmanr([p[2] for p in pairs], cosine.tolist()).statistic
    return (0.0 if rho != rho else float(rho)), coverage  # rho is NaN if all cosines tie


@torch.inference_mode()
def analogy(words: list[str], vectors: torch.Tensor, batch: int = 512) -> tuple[float, float]:
    """(accuracy over the covered questions, coverage) of 3CosAdd on the Google analogies."""
    index = case_index(words)
    rows = [[index[w] for w in q] for q in analogy_questions() if all(w in index for w in q)]
    coverage = len(rows) / len(analogy_questions())
    if not rows:
        return 0.0, coverage
    unit = F.normalize(vectors.float(), dim=1)  # (V, D)
    candidate = torch.zeros(len(words), dtype=torch.bool)
    candidate[list(index.values())] = True  # one spelling per word can be an answer
    questions = torch.tensor(rows)  # (Q, 4): a, b, c, expected
    correct = 0
    for start in range(0, len(questions), batch):
        q = questions[start:start + batch]
        target = unit[q[:, 1]] - unit[q[:, 0]] + unit[q[:, 2]]  # (B, D)
        scores = F.normalize(target, dim=1) @ unit.T  # (B, V) cosine to every word
        scores[:, ~candidate] = -float("inf")
        scores.scatter_(1, q[:, :3], -float("inf"))  # the three given words are not answers
        correct += int((scores.argmax(1) == q[:, 3]).sum())
    return correct / len(rows), coverage


def evaluate(words: list[str], vectors: torch.Tensor) -> dict[str, float]:
    rho, pair_coverage = wordsim(words, vectors)
    accuracy, question_coverage = analogy(words, vectors)
    halves = {f"eval/wordsim353_{half}": wordsim(words, vectors, half)[0] for half in HALVES}
    return {"eval/wordsim353": rho, "eval/wordsim353_coverage": pair_coverage, **halves,
            "eval/analogy": accuracy, "eval/analogy_coverage": question_coverage}


class UnknownWord(Said, KeyError):
    """A query word the run has no vector for; text(lang) is the message to show."""


def row_of(words: list[str], word: str) -> int:
    """Row of `word` (any case), or UnknownWord with a message fit to show as is."""
    text = word.strip()
    index = case_index(words)
    if not text:
        raise UnknownWord("error.type_a_word")
    if text.lower() not in index:
        raise UnknownWord("error.word_unknown", word=text, n=f"{len(words):,}")
    return index[text.lower()]


def neighbours(words: list[str], vectors: torch.Tensor, word: str,
               k: int = 10) -> list[tuple[str, float]]:
    """The k words with the highest cosine similarity to `word`, without itself."""
    row = row_of(words, word)
    return _top(words, vectors, vectors[row].float(), k, (row,))


def solve_analogy(words: list[str], vectors: torch.Tensor, a: str, b: str, c: str,
                  k: int = 5) -> list[tuple[str, float]]:
    """a is to b as c is to ...? The k words nearest to b - a + c (3CosAdd on unit
    vectors), without the three given words."""
    rows = [row_of(words, w) for w in (a, b, c)]
    unit = F.normalize(vectors.float(), dim=1)
    return _top(words, vectors, unit[rows[1]] - unit[rows[0]] + unit[rows[2]], k, tuple(rows))


def similarity(words: list[str], vectors: torch.Tensor, a: str, b: str) -> float:
    """Cosine similarity of two words' vectors."""
    unit = F.normalize(vectors.float(), dim=1)
    return float(unit[row_of(words, a)] @ unit[row_of(words, b)])


def _top(words: list[str], vectors: torch.Tensor, query: torch.Tensor, k: int,
         exclude: tuple[int, ...]) -> list[tuple[str, float]]:
    scores = F.normalize(vectors.float(), dim=1) @ F.normalize(query, dim=0)  # (V,) cosines
    scores[list(exclude)] = -float("inf")
    top = scores.topk(min(k, len(words) - len(exclude)))
    return [(words[i], float(s)) for s, i in zip(top.values.tolist(), top.indices.tolist())]
