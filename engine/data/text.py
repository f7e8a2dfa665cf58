"""The two text datasets of the sequence pages, read once per process.

tiny Shakespeare: one 1.1 MB text file (Karpathy's char-rnn corpus), read from the mirror
(`tinyshakespeare/input.txt`) or downloaded from its usual URL into the data folder.
sentence_polarity: NLTK's 10,662 labelled movie-review sentences (Pang and Lee, 2005),
read with NLTK's own corpus reader; with a network it is fetched by nltk.download.
"""
from __future__ import annotations

import functools
import re
import urllib.request
from collections import Counter
from dataclasses import dataclass

import torch

from engine import settings
from engine.data import download, find_file, search_roots, use_nltk_data

SHAKESPEARE = "tinyshakespeare/input.txt"
SHAKESPEARE_URL = ("https://raw.githubusercontent.com/karpathy/char-rnn/master/"
                   "data/tinyshakespeare/input.txt")
TRAIN_FRACTION = 0.9  # nanoGPT's split: first 90% of characters train, last 10% validate
PAD, UNK = 0, 1  # word ids reserved in every sentiment vocabulary
MAX_WORDS = 64  # the longest sentence has 59 tokens
SPLIT_SEED = 0  # one fixed sentence split for every run, so test sets are the same


@dataclass(frozen=True)
class CharCorpus:
    chars: str  # the vocabulary: every distinct character, sorted; id = position
    train: torch.Tensor  # (0.9 N,) int64 character ids
    val: torch.Tensor  # (0.1 N,) int64 character ids

    def encode(self, text: str) -> torch.Tensor:
        index = {c: i for i, c in enumerate(self.chars)}
        unknown = sorted({c for c in text if c not in index})
        if unknown:
            raise ValueError(f"characters not in the vocabulary: {''.join(unknown)!r}")
        return torch.tensor([index[c] for c in text], dtype=torch.long)

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)


@dataclass(frozen=True)
class Sentences:
    words: list[str]  # vocabulary from the training split: id -> word (0 <pad>, 1 <unk>)
    splits: dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]
    # "train" | "val" | "test" -> (tokens (N, MAX_WORDS) int64 padded with PAD,
    #                               lengths (N,) int64, labels (N,) int64: 1 positive)
    texts: dict[str, list[str]]  # the sentences of each split as text, for the page


def tokenize(sentence: str) -> list[str]:
    """Lower-case words, keeping apostrophes and hyphens inside words, punctuation apart:
    close to how the corpus itself is tokenised ("he's", "middle-earth", ",")."""
    return re.findall(r"[a-z0-9]+(?:['\-/][a-z0-9]+)*|[^\sa-z0-9]", sentence.lower())


@functools.lru_cache(maxsize=1)
def load_shakespeare() -> CharCorpus:
    path = find_file(SHAKESPEARE)
    if path is None:
        target = settings.data_dir() / SHAKESPEARE
        with download("tiny Shakespeare", [r / SHAKESPEARE for r in search_roots()]):
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_suffix(".part")
            urllib.request.urlretrieve(SHAKESPEARE_URL, temp)
            temp.replace(target)
        path = target
    text = path.read_text(encoding="utf-8")
    chars = "".join(sorted(set(text)))
    lookup = torch.zeros(max(map(ord, chars)) + 1, dtype=torch.long)  # code point -> id
    lookup[torch.tensor([ord(c) for c in chars])] = torch.arange(len(chars))
    data = lookup[torch.tensor([ord(c) for c in text])]  # (N,) ids
    cut = int(TRAIN_FRACTION * len(data))
    return CharCorpus(chars, data[:cut].clone(), data[cut:].clone())


def _polarity_reader():
    """NLTK's sentence_polarity reader; downloads it into the data folder if it is nowhere."""
    import nltk
    from nltk.corpus import sentence_polarity

    roots = use_nltk_data()
    try:
        sentence_polarity.ensure_loaded()
    except LookupError:
        target = settings.data_dir() / "nltk_data"
        with download("sentence_polarity (NLTK)",
                      [r / "corpora" / "sentence_polarity.zip" for r in roots]):
            target.mkdir(parents=True, exist_ok=True)
            if not nltk.download("sentence_polarity", download_dir=str(target), quiet=True,
                                 raise_on_error=True):
                raise RuntimeError("nltk.download returned False") from None
            sentence_polarity.ensure_loaded()
    return sentence_polarity


def _pad(sentences: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    tokens = torch.full((len(sentences), MAX_WORDS), PAD, dtype=torch.long)
    lengths = torch.tensor([max(1, min(len(s), MAX_WORDS)) for s in sentences])
    for row, ids in enumerate(sentences):
        ids = ids[:MAX_WORDS] or [UNK]
        tokens[row, :len(ids)] = torch.tensor(ids)
    return tokens, lengths


@functools.lru_cache(maxsize=2)
def load_polarity(min_count: int = 2) -> Sentences:
    """80/10/10 train/val/test split (fixed by SPLIT_SEED) with a word vocabulary built from
    the training split only: words seen fewer than `min_count` times there become <unk>."""
    reader = _polarity_reader()
    items = [(s, label) for label, category in ((0, "neg"), (1, "pos"))
             for s in reader.sents(categories=category)]
    order = torch.randperm(len(items), generator=torch.Generator().manual_seed(SPLIT_SEED))
    n_test = n_val = len(items) // 10
    parts = {"test": order[:n_test], "val": order[n_test:n_test + n_val],
             "train": order[n_test + n_val:]}
    counts = Counter(w.lower() for i in parts["train"].tolist() for w in items[i][0])
    words = ["<pad>", "<unk>"] + sorted(w for w, n in counts.items() if n >= min_count)
    index = {w: i for i, w in enumerate(words)}
    splits, texts = {}, {}
    for name, rows in parts.items():
        chosen = [items[i] for i in rows.tolist()]
        tokens, lengths = _pad([[index.get(w.lower(), UNK) for w in s] for s, _ in chosen])
        splits[name] = (tokens, lengths, torch.tensor([label for _, label in chosen]))
        texts[name] = [" ".join(s) for s, _ in chosen]
    return Sentences(words, splits, texts)
