"""The text loaders: the nanoGPT character split, the fixed sentence split with a
training-only vocabulary, and a clear DataMissing when a dataset is nowhere."""
from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import pytest
import torch

from engine.data import DataMissing, text


def test_shakespeare_split_is_nanogpt_90_10():
    corpus = text.load_shakespeare()
    n = len(corpus.train) + len(corpus.val)
    assert n == 1_115_394 and len(corpus.train) == int(0.9 * n)
    assert len(corpus.chars) == 65
    assert corpus.decode(corpus.train[:14]) == "First Citizen:"
    assert corpus.decode(corpus.encode("ROMEO:\nO!")) == "ROMEO:\nO!"
    with pytest.raises(ValueError, match="not in the vocabulary"):
        corpus.encode("café")


def test_polarity_split_and_training_vocabulary():
    data = text.load_polarity()
    sizes = {name: len(split[2]) for name, split in data.splits.items()}
    assert sizes == {"train": 8530, "val": 1066, "test": 1066}
    train_tokens, train_lengths, train_labels = data.splits["train"]
    assert 0.45 < float(train_labels.float().mean()) < 0.55
    # The vocabulary is exactly the training words seen at least twice.
    counts = Counter(w.lower() for s in data.texts["train"] for w in s.split(" "))
    assert set(data.words[2:]) == {w for w, n in counts.items() if n >= 2}
    test_only = {w.lower() for s in data.texts["test"] for w in s.split(" ")} - set(counts)
    assert test_only and not test_only & set(data.words)
    assert int(train_tokens.max()) < len(data.words)
    beyond = torch.arange(text.MAX_WORDS)[None, :] >= train_lengths[:, None]  # (N, L)
    assert (train_tokens[beyond] == text.PAD).all() and (train_tokens[~beyond] != text.PAD).all()


def test_tokenize_matches_the_corpus_style():
    assert text.tokenize("He's a middle-earth FAN, truly!") == [
        "he's", "a", "middle-earth", "fan", ",", "truly", "!"]


def test_missing_shakespeare_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TOP10_DATA_MIRROR", str(tmp_path / "empty"))
    monkeypatch.setenv("TOP10_DATA_DIR", str(tmp_path / "data"))

    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(text.urllib.request, "urlretrieve", offline)
    text.load_shakespeare.cache_clear()
    try:
        with pytest.raises(DataMissing, match="tiny Shakespeare is not available") as info:
            text.load_shakespeare()
        assert "no network" in str(info.value) and "TOP10_DATA_MIRROR" in str(info.value)
    finally:
        text.load_shakespeare.cache_clear()


@pytest.mark.slow  # seconds: a fresh Python (imports torch) or a whole corpus
def test_missing_polarity_is_one_clear_error(tmp_path):
    # A fresh process: NLTK's lazy corpus loader keeps a corpus once it has found it.
    code = ("import nltk; nltk.download = lambda *a, **k: False\n"
            "from engine.data.text import load_polarity\n"
            "from engine.data import DataMissing\n"
            "try:\n    load_polarity()\nexcept DataMissing as e:\n    print(e)\n")
    env = {**os.environ, "TOP10_DATA_MIRROR": str(tmp_path / "empty"),
           "TOP10_DATA_DIR": str(tmp_path / "data"), "NLTK_DATA": str(tmp_path / "none")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=60)
    assert "sentence_polarity (NLTK) is not available" in out.stdout, out.stderr[-500:]
