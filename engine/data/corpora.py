"""Text corpora for word vectors, as lists of tokenised sentences.

abc and brown come through NLTK's own corpus readers (nltk.corpus.abc / .brown), which
find `corpora/<name>.zip` under any nltk_data folder on nltk.data.path; tiny Shakespeare is
a plain text file. No punkt model is needed (none is available offline): brown's reader
already splits sentences, abc's raw text has one sentence per line, Shakespeare is split by
line; every sentence is then cut into words by one regex, so the three corpora are
tokenised alike. With a network, a missing corpus is downloaded the standard way
(nltk.download / the char-rnn URL) into the writable data folder, never into a mirror.
"""
from __future__ import annotations

import functools
import io
import re
import urllib.request

from engine import settings
from engine.data import download, find_file, search_roots, use_nltk_data

CORPORA = ("abc", "brown", "shakespeare", "combined")
SHAKESPEARE_URL = ("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/"
                   "tinyshakespeare/input.txt")
# A word is letters with inner apostrophes ("don't", "atlanta's") or a run of digits;
# punctuation and quote marks are dropped.
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*|\d+")


def tokenise(text: str, lowercase: bool) -> list[str]:
    return WORD.findall(text.lower() if lowercase else text)


def _nltk_corpus(name: str):
    """The NLTK corpus reader for `name`, downloading it into the data folder if no
    nltk_data folder on the search roots holds it."""
    import nltk
    import nltk.corpus

    use_nltk_data()
    try:
        nltk.data.find(f"corpora/{name}.zip")
    except LookupError:
        target = settings.data_dir() / "nltk_data"
        places = [r / "nltk_data" / "corpora" / f"{name}.zip" for r in search_roots()]
        with download(f"NLTK corpus {name!r}", places):
            target.mkdir(parents=True, exist_ok=True)
            ok = nltk.download(name, download_dir=str(target), quiet=True, raise_on_error=True,
                               print_error_to=io.StringIO())  # the error is in our message
            if not ok:
                raise RuntimeError("nltk.download returned False") from None
    return getattr(nltk.corpus, name)


def _sentence_texts(name: str) -> list[str]:
    """One string per sentence, as the source splits them."""
    if name == "abc":
        reader = _nltk_corpus("abc")
        return [line for fid in reader.fileids() for line in reader.raw(fid).splitlines()]
    if name == "brown":
        return [" ".join(sentence) for sentence in _nltk_corpus("brown").sents()]
    path = find_file("tinyshakespeare/input.txt")
    if path is None:
        path = settings.data_dir() / "tinyshakespeare" / "input.txt"
        places = [r / "tinyshakespeare" / "input.txt" for r in search_roots()]
        with download("Tiny Shakespeare", places):
            path.parent.mkdir(parents=True, exist_ok=True)
            with urllib.request.urlopen(SHAKESPEARE_URL, timeout=30) as response:
                data = response.read()
            temp = path.with_suffix(".part")
            temp.write_bytes(data)
            temp.replace(path)
    return path.read_text(encoding="utf-8").splitlines()


@functools.lru_cache(maxsize=8)
def _source(name: str, lowercase: bool) -> tuple[tuple[str, ...], ...]:
    sentences = (tokenise(text, lowercase) for text in _sentence_texts(name))
    return tuple(tuple(s) for s in sentences if s)


def load_corpus(name: str, lowercase: bool = True, max_words: int = 0) -> list[list[str]]:
    """Tokenised sentences of `name` (one of CORPORA; "combined" is abc + brown +
    Shakespeare). max_words > 0 keeps only the first sentences of each source, up to about
    that many words each (for quick runs and tests)."""
    if name not in CORPORA:
        raise ValueError(f"corpus must be one of {', '.join(CORPORA)}, got {name!r}")
    sources = CORPORA[:3] if name == "combined" else (name,)
    out: list[list[str]] = []
    for source in sources:
        words = 0
        for sentence in _source(source, lowercase):
            if max_words and words >= max_words:
                break
            out.append(list(sentence))
            words += len(sentence)
    return out


@functools.lru_cache(maxsize=1)
def english_stopwords() -> frozenset[str]:
    """NLTK's English stop-word list (kept off the word map, where they would crowd out
    the content words)."""
    return frozenset(_nltk_corpus("stopwords").words("english"))
