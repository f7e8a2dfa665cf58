"""Word2Vec: word vectors learnt by predicting words from their neighbours.

Three variants, trained on the same tokenised corpus with the same vocabulary rule:
  skipgram        - gensim's skip-gram with negative sampling (optimised C loops);
  cbow            - gensim's continuous bag of words with negative sampling;
  torch_skipgram  - our own skip-gram with negative sampling in PyTorch (subsampling,
                    unigram^0.75 noise, the objective; see `train_torch`).
All are scored by engine.word_eval on WordSim-353 and the Google analogies, next to random
vectors for the same vocabulary, and keep their `TOP_WORDS` most frequent word vectors
(float16) as artifacts so the page can answer neighbour and analogy queries.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine import word_eval
from engine.core import COSTS_MORE, COSTS_MORE_ZERO_ALL, Card, ConfigError, RunResult, setting
from engine.data.corpora import CORPORA, english_stopwords, load_corpus

TOP_WORDS = 20_000  # rows kept in the artifact: 20,000 x 100 dims x 2 bytes = 4 MB
MONITOR_POSITIONS = 2_000  # corpus positions on which every variant's loss is measured
CLUSTERS = 8  # k-means colours on the word map


@dataclass(frozen=True)
class Config:
    corpus: str = setting("brown", "text to learn from (combined = abc + brown + Shakespeare)",
                          choices=CORPORA, cost=COSTS_MORE)
    lowercase: bool = setting(True, "lower-case the text before counting words")
    max_words: int = setting(0, "use only the first N words of each corpus (0 = all)",
                             lo=0, hi=2_000_000, cost=COSTS_MORE_ZERO_ALL)
    min_count: int = setting(5, "ignore words seen fewer times than this", lo=1, hi=1000)
    dim: int = setting(100, "dimensions of each word vector", lo=8, hi=300, cost=COSTS_MORE)
    window: int = setting(5, "largest distance between a word and a context word", lo=1, hi=20,
                          cost=COSTS_MORE)
    negative: int = setting(5, "noise words drawn per true (word, context) pair", lo=1, hi=30,
                            cost=COSTS_MORE)
    sample: float = setting(1e-3, "subsampling threshold: frequent words are dropped at random "
                            "(0 = keep all)", lo=0.0, hi=0.1)
    epochs: int = setting(5, "passes over the corpus", lo=1, hi=100, cost=COSTS_MORE)
    alpha: float = setting(0.025, "starting learning rate, decayed linearly to 0.0001",
                           lo=1e-4, hi=1.0)
    batch_size: int = setting(1024, "(word, context) pairs per step of the PyTorch variant",
                              lo=16, hi=65536)
    workers: int = setting(1, "gensim worker threads (1 = reproducible)", lo=1, hi=16)
    map_words: int = setting(300, "most frequent content words placed on the 2-D map",
                             lo=20, hi=2000, cost=COSTS_MORE)


# ---- vocabulary and corpus as tensors ---------------------------------------------------
def count_words(sentences: list[list[str]], min_count: int) -> tuple[list[str], torch.Tensor]:
    """Words seen at least min_count times, most frequent first (ties: first seen first),
    and their counts (V,): the same rule gensim's build_vocab applies."""
    counts = Counter(word for sentence in sentences for word in sentence)
    kept = sorted(((w, c) for w, c in counts.items() if c >= min_count), key=lambda wc: -wc[1])
    return [w for w, _ in kept], torch.tensor([c for _, c in kept], dtype=torch.float64)


def encode(sentences: list[list[str]], index: dict[str, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """The corpus as word ids (N,) and sentence numbers (N,); out-of-vocabulary words are
    dropped first, so windows reach over them, as in gensim."""
    ids, sentence_of = [], []
    for number, sentence in enumerate(sentences):
        row = [index[w] for w in sentence if w in index]
        ids.extend(row)
        sentence_of.extend([number] * len(row))
    return torch.tensor(ids, dtype=torch.int64), torch.tensor(sentence_of, dtype=torch.int64)


def noise_distribution(counts: torch.Tensor, power: float = 0.75) -> torch.Tensor:
    """P(noise word = w) proportional to count(w)^0.75: flatter than the unigram
    distribution, so rare words are drawn as negatives more often than their frequency."""
    weights = counts.double() ** power
    return (weights / weights.sum()).float()


def keep_probability(counts: torch.Tensor, sample: float) -> torch.Tensor:
    """Chance to keep each occurrence of a word (word2vec's subsampling rule): with
    f = count / total and s = sample, keep = (sqrt(f / s) + 1) * s / f, at most 1."""
    if sample <= 0:
        return torch.ones(len(counts))
    threshold = sample * counts.sum()
    return ((counts / threshold).sqrt() + 1).mul(threshold / counts).clamp(max=1.0).float()


def skipgram_pairs(ids: torch.Tensor, sentence: torch.Tensor, window: int,
                   generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """All (centre, context) id pairs of a token run (N,), both directions, never across a
    sentence end. Each centre draws its own reach in 1..window (word2vec's shrunk window,
    which weights near neighbours more)."""
    n = len(ids)
    reach = torch.randint(1, window + 1, (n,), generator=generator)
    centres, contexts = [ids[:0]], [ids[:0]]  # empty starts: a run of 0 or 1 tokens has no pairs
    for d in range(1, min(window, n - 1) + 1):
        left, right = slice(0, n - d), slice(d, n)  # token i and token i + d
        same = sentence[left] == sentence[right]
        for c, x in ((left, right), (right, left)):
            ok = same & (reach[c] >= d)
            centres.append(ids[c][ok])
            contexts.append(ids[x][ok])
    return torch.cat(centres), torch.cat(contexts)


# ---- our skip-gram -----------------------------------------------------------------------
class SkipGram(nn.Module):
    """Two tables of vectors: `inp` holds the word vectors we keep, `out` the vectors a
    word has when it is the one being predicted. sparse=True: a step touches only the
    rows of the words in its batch."""

    def __init__(self, vocab: int, dim: int):
        super().__init__()
        self.inp = nn.Embedding(vocab, dim, sparse=True)
        self.out = nn.Embedding(vocab, dim, sparse=True)
        nn.init.uniform_(self.inp.weight, -0.5 / dim, 0.5 / dim)  # word2vec's initialisation
        nn.init.zeros_(self.out.weight)

    def forward(self, centre: torch.Tensor, context: torch.Tensor,
                noise: torch.Tensor) -> torch.Tensor:
        """centre (B,), context (B,), noise (B, K) ids -> loss per pair (B,):
        -log sigmoid(v.u_context) - sum_k log sigmoid(-v.u_noise_k)."""
        v = self.inp(centre)  # (B, D)
        true_score = (v * self.out(context)).sum(1)  # (B,)
        noise_score = torch.bmm(self.out(noise), v.unsqueeze(2)).squeeze(2)  # (B, K)
        return -F.logsigmoid(true_score) - F.logsigmoid(-noise_score).sum(1)

    @torch.no_grad()
    def sgd_step(self, centre: torch.Tensor, context: torch.Tensor, noise: torch.Tensor,
                 lr: float) -> None:
        """One plain SGD step on forward()'s loss summed over the batch, with its gradient
        written out, as word2vec's own C code does: the same step autograd's sparse SGD
        takes, faster (`python -m engine bench word2vec --part step`). With s = v.u:
        d/dv = (sigmoid(s) - 1) u + sum_k sigmoid(s_k) u_k, d/du = (sigmoid(s) - 1) v,
        d/du_k = sigmoid(s_k) v. A word in the batch twice gets both updates added, as
        with autograd. (index_select and index_add_ without alpha: on a CPU, table[ids]
        and index_add_(alpha=...) each took 4x as long.)"""
        b, k = noise.shape
        v = self.inp.weight.index_select(0, centre)  # (B, D)
        u = self.out.weight.index_select(0, context)  # (B, D)
        n = self.out.weight.index_select(0, noise.flatten()).view(b, k, -1)  # (B, K, D)
        true_grad = torch.sigmoid((v * u).sum(1)).sub_(1).mul_(-lr)  # (B,), times -lr
        noise_grad = torch.sigmoid(torch.bmm(n, v.unsqueeze(2))).mul_(-lr)  # (B, K, 1)
        step_v = true_grad[:, None] * u + torch.bmm(noise_grad.transpose(1, 2), n).squeeze(1)
        self.out.weight.index_add_(0, context, true_grad[:, None] * v)
        self.out.weight.index_add_(0, noise.flatten(), (noise_grad * v[:, None]).flatten(0, 1))
        self.inp.weight.index_add_(0, centre, step_v)


def train_torch(cfg: dict, ids: torch.Tensor, sentence: torch.Tensor, counts: torch.Tensor,
                generator: torch.Generator, on_epoch, report) -> SkipGram:
    """Plain SGD on the summed pair losses with word2vec's linearly decaying rate.
    Each epoch: subsample the corpus, then walk it in chunks, making every (centre,
    context) pair of a chunk, shuffling them, and taking one step per batch."""
    model = SkipGram(len(counts), cfg["dim"])
    noise = noise_distribution(counts)
    keep = keep_probability(counts, cfg["sample"])
    chunk, batch, epochs = 100_000, cfg["batch_size"], cfg["epochs"]
    total = epochs * len(ids)  # tokens to walk, for the rate schedule and progress
    walked, step, last_report = 0, 0, time.perf_counter()
    for epoch in range(1, epochs + 1):
        for start in range(0, len(ids), chunk):
            kept = torch.rand(min(chunk, len(ids) - start), generator=generator) \
                < keep[ids[start:start + chunk]]
            centre, context = skipgram_pairs(ids[start:start + chunk][kept],
                                             sentence[start:start + chunk][kept],
                                             cfg["window"], generator)
            order = torch.randperm(len(centre), generator=generator)
            for i in range(0, len(order), batch):
                j = order[i:i + batch]
                negatives = torch.multinomial(noise, len(j) * cfg["negative"], replacement=True,
                                              generator=generator).view(len(j), -1)  # (B, K)
                done = (walked + len(kept) * i / max(len(order), 1)) / total
                if time.perf_counter() - last_report > 1.0:  # the loss before this step
                    with torch.no_grad():
                        pair_loss = float(model(centre[j], context[j], negatives).mean())
                    report(step, {"train/pair_loss": pair_loss})
                    report.progress(done, 1.0, f"epoch {epoch}/{epochs}")
                    last_report = time.perf_counter()
                model.sgd_step(centre[j], context[j], negatives,
                               lr=max(cfg["alpha"] * (1 - done), 1e-4))
                step += 1
            walked += len(kept)
        on_epoch(epoch, model.inp.weight.detach(), model.out.weight.detach())
    return model


# ---- gensim ------------------------------------------------------------------------------
def train_gensim(cfg: dict, sg: int, sentences: list[list[str]], words: list[str], seed: int,
                 on_epoch) -> torch.Tensor:
    """gensim's Word2Vec with the same settings; returns its input vectors (V, D) in the
    row order of `words`. `on_epoch` runs after every epoch (its time counts as training)."""
    from gensim.models import Word2Vec
    from gensim.models.callbacks import CallbackAny2Vec

    class EachEpoch(CallbackAny2Vec):
        def __init__(self):
            self.epoch, self.rows = 0, None

        def on_train_begin(self, model):  # the vocabulary is built by now
            self.rows = torch.tensor([model.wv.key_to_index[w] for w in words])

        def on_epoch_end(self, model):
            self.epoch += 1
            on_epoch(self.epoch, torch.from_numpy(model.wv.vectors)[self.rows],
                     torch.from_numpy(model.syn1neg)[self.rows])

    model = Word2Vec(vector_size=cfg["dim"], window=cfg["window"], min_count=cfg["min_count"],
                     sg=sg, negative=cfg["negative"], sample=cfg["sample"], alpha=cfg["alpha"],
                     workers=cfg["workers"], seed=seed)
    model.build_vocab(sentences)
    callback = EachEpoch()
    model.train(sentences, total_examples=model.corpus_count, epochs=cfg["epochs"],
                callbacks=[callback])
    return torch.from_numpy(model.wv.vectors)[callback.rows]


# ---- measurements ------------------------------------------------------------------------
def monitor_sample(ids: torch.Tensor, sentence: torch.Tensor, window: int, noise: torch.Tensor,
                   negative: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """A fixed set of corpus positions: centre (n,), its full window of context ids
    (n, 2*window; -1 where the window leaves the sentence) and noise ids (n, K)."""
    n = min(MONITOR_POSITIONS, len(ids))
    where = torch.randperm(len(ids), generator=generator)[:n]
    offsets = torch.cat([torch.arange(-window, 0), torch.arange(1, window + 1)])
    at = (where[:, None] + offsets).clamp(0, len(ids) - 1)  # (n, 2w)
    inside = (sentence[at] == sentence[where][:, None]) & ((where[:, None] + offsets) >= 0) \
        & ((where[:, None] + offsets) < len(ids))
    context = torch.where(inside, ids[at], -1)
    negatives = torch.multinomial(noise, n * negative, replacement=True, generator=generator)
    has_context = inside.any(1)
    return {"centre": ids[where][has_context], "context": context[has_context],
            "noise": negatives.view(n, negative)[has_context]}


@torch.inference_mode()
def monitor_loss(vin: torch.Tensor, vout: torch.Tensor, sample: dict, cbow: bool) -> float:
    """The variant's own negative-sampling loss at the monitor positions. Skip-gram: mean
    over (context word -> centre) pairs; CBOW: mean over positions of (mean of the context
    vectors -> centre). Same positions and noise words for every variant and epoch."""
    mask = sample["context"] >= 0  # (n, 2w)
    x = vin[sample["context"].clamp(min=0)] * mask[..., None]  # (n, 2w, D)
    targets = torch.cat([sample["centre"][:, None], sample["noise"]], 1)  # (n, 1+K)
    u = vout[targets]  # (n, 1+K, D)
    sign = torch.ones(targets.shape[1])
    sign[1:] = -1  # true word: log sigmoid(s); noise words: log sigmoid(-s)
    if cbow:
        h = x.sum(1) / mask.sum(1, keepdim=True)  # (n, D)
        scores = torch.bmm(u, h.unsqueeze(2)).squeeze(2)  # (n, 1+K)
        return float(-F.logsigmoid(scores * sign).sum(1).mean())
    scores = torch.bmm(x, u.transpose(1, 2))  # (n, 2w, 1+K)
    return float(-F.logsigmoid(scores * sign).sum(2)[mask].mean())


def epoch_reporter(words: list[str], sample: dict, cbow: bool, epochs: int, report):
    """What every variant reports after each epoch: its loss at the monitor positions and
    its WordSim-353 score (cheap: 353 pairs)."""
    def on_epoch(epoch: int, vin: torch.Tensor, vout: torch.Tensor) -> None:
        rho, _ = word_eval.wordsim(words, vin)
        report(epoch, {"train/loss": monitor_loss(vin, vout, sample, cbow),
                       "eval/wordsim353": rho, "epoch": epoch})
        report.progress(epoch, epochs, f"epoch {epoch}/{epochs}")

    return on_epoch


def word_map(words: list[str], vectors: torch.Tensor, n: int, seed: int) -> dict:
    """2-D views of the n most frequent content words (no stop words, at least 3 letters):
    PCA and t-SNE coordinates (n, 2) and a k-means cluster for each word (n,)."""
    from sklearn.cluster import KMeans
    from sklearn.manifold import TSNE

    stop = english_stopwords()
    rows = [i for i, w in enumerate(words) if len(w) >= 3 and w.lower() not in stop][:n]
    if len(rows) < CLUSTERS + 2:
        return {}
    unit = F.normalize(vectors[rows].float(), dim=1)  # (n, D)
    centred = unit - unit.mean(0)
    _, _, v = torch.linalg.svd(centred, full_matrices=False)
    pca = centred @ v[:2].T  # (n, 2)
    tsne = TSNE(perplexity=min(30.0, (len(rows) - 1) / 3), init="pca", random_state=seed,
                metric="cosine").fit_transform(unit.numpy())
    cluster = KMeans(CLUSTERS, n_init=4, random_state=seed).fit_predict(unit.numpy())
    return {"words": [words[i] for i in rows], "pca": pca.contiguous(),
            "tsne": torch.from_numpy(tsne).float(), "cluster": torch.from_numpy(cluster).long()}


def run(spec, report) -> RunResult:
    cfg, seed = spec.config, spec.seed
    report.progress(0, 1, "reading the corpus")
    sentences = load_corpus(cfg["corpus"], cfg["lowercase"], cfg["max_words"])
    words, counts = count_words(sentences, cfg["min_count"])
    if len(words) < 2:
        raise ConfigError("error.too_few_words", n=len(words), min_count=cfg["min_count"])
    ids, sentence = encode(sentences, {w: i for i, w in enumerate(words)})
    generator = torch.Generator().manual_seed(seed)
    sample = monitor_sample(ids, sentence, cfg["window"], noise_distribution(counts),
                            cfg["negative"], generator)
    cbow = spec.variant == "cbow"

    on_epoch = epoch_reporter(words, sample, cbow, cfg["epochs"], report)
    started = time.perf_counter()
    if spec.variant == "torch_skipgram":
        model = train_torch(cfg, ids, sentence, counts, generator, on_epoch, report)
        vectors = model.inp.weight.detach()
    else:
        vectors = train_gensim(cfg, int(not cbow), sentences, words, seed, on_epoch)
    train_seconds = time.perf_counter() - started
    raw_words = sum(len(s) for s in sentences)

    report.progress(0.95, 1, "evaluating")
    metrics = word_eval.evaluate(words, vectors)
    # The same random vectors for every variant of a seed: the floor any training must beat.
    random_vectors = torch.randn(vectors.shape, generator=torch.Generator().manual_seed(seed))
    random = word_eval.evaluate(words, random_vectors)
    metrics.update({
        "eval/wordsim353_random": random["eval/wordsim353"],
        "eval/analogy_random": random["eval/analogy"],
        "vocab/size": float(len(words)),
        "corpus/words": float(raw_words),
        "time/words_per_second": raw_words * cfg["epochs"] / max(train_seconds, 1e-9),
    })
    if {"the", "of"} <= set(words[:1000]):  # the article's example
        metrics["eval/similarity_the_of"] = word_eval.similarity(words, vectors, "the", "of")
    top = min(TOP_WORDS, len(words))
    artifacts = {
        "words": words[:top],
        "vectors": vectors[:top].to(torch.float16).contiguous(),  # (top, dim)
        "counts": counts[:top].long(),
        "map": word_map(words, vectors, cfg["map_words"], seed),
    }
    return RunResult(metrics, 2 * vectors.numel(), train_seconds, artifacts)  # in + out tables


EXPLANATION = """
**Principle.** Word2Vec gives every word of a vocabulary a short dense vector (here 100
numbers) such that words used in similar contexts get similar vectors. It rests on the
distributional idea: a word is characterised by the company it keeps. The network is
shallow, one table of input vectors and one of output vectors, and the task is only a
pretext: *skip-gram* predicts each neighbour within a window from the centre word,
*CBOW* (continuous bag of words) predicts the centre word from the average of its
neighbours. What we keep afterwards is the input table.

**Training.** A full softmax over the vocabulary for every prediction would be slow, so
both variants use *negative sampling*: for each true (word, context) pair the model raises
the score (dot product) of that pair and lowers the score of K noise words drawn from the
unigram distribution raised to the power 0.75, which draws rare words more often than
their frequency. Very frequent words such as "the" carry little information and are
dropped at random (*subsampling*), which both speeds training up and widens the effective
window. Plain SGD with a learning rate that decays linearly to zero does the rest.

**Strengths.** Cheap to train (gensim processes hundreds of thousands of words a second on
one core), and the vectors capture similarity and some regularities: on a large corpus
king - man + woman lands near queen. They were the standard input layer of NLP models for
years.

**Weaknesses.** One vector per word form: the senses of "bank" are averaged, and a word
never seen (or seen fewer than min_count times) has no vector at all. The window is short,
so nothing beyond a few words is captured. Quality depends heavily on the amount of text
and on settings (window, dimensions, epochs, subsampling): on a corpus of one million
words, such as Brown, analogies mostly fail, as this page shows. Contextual models
(Transformers) have since replaced static vectors in most tasks.

**Uses.** Features for text classification and sentiment analysis, query expansion and
search, recommendation (item2vec: sessions as sentences), and as a first look at what a
corpus says about its words.
"""

CARD = Card(
    code=(SkipGram, train_torch, train_gensim),
    key="word2vec",
    title="Word2Vec (skip-gram and CBOW)",
    family="Sequences",
    summary="A shallow network learns word vectors by predicting words from their neighbours.",
    explanation=EXPLANATION,
    variants={
        "skipgram": "gensim skip-gram with negative sampling",
        "cbow": "gensim CBOW (averaged context predicts the word) with negative sampling",
        "torch_skipgram": "our own skip-gram with negative sampling in PyTorch",
    },
    presets={
        # 30,000 words of each of abc, brown and Shakespeare: enough that the page's own
        # examples (engine.inspect.words.DEMO_WORDS: money, man/men, woman/women) are words
        "quick": {"corpus": "combined", "max_words": 30_000, "min_count": 3, "dim": 32,
                  "epochs": 1, "map_words": 60},
        # The full preset's window, subsampling and noise words at half its passes, with a
        # doubled starting rate, chosen on WordSim-353's tune half (gensim skip-gram, 5
        # epochs: alpha 0.025 tune 0.286, alpha 0.05 tune 0.474; 4 epochs at 0.06: 0.452;
        # 8 epochs at 0.025: 0.412; the defaults: 0.213); its test half gives 0.396 (0.292).
        "standard": {"window": 10, "sample": 1e-4, "negative": 10, "alpha": 0.05},
        # More passes, a wider window, stronger subsampling, more noise words: chosen on
        # WordSim-353's tune half (gensim skip-gram, window 5/10 x sample 1e-3/1e-4 x
        # negative 5/10 at 10 epochs: tune 0.479, best of 8); its test half gives 0.399.
        "full": {"epochs": 10, "window": 10, "sample": 1e-4, "negative": 10},
    },
    metrics=("eval/wordsim353", "eval/wordsim353_coverage", "eval/analogy",
             "eval/analogy_coverage", "eval/wordsim353_random", "eval/analogy_random",
             "vocab/size", "corpus/words", "time/words_per_second"),
    headline="eval/wordsim353",
    headline_label="WordSim-353 Spearman",
    higher_is_better=True,
    config_cls=Config,
    run=run,
    data_field="corpus",
    metric_labels={
        "eval/wordsim353": "WordSim-353 Spearman",
        "eval/wordsim353_coverage": "WordSim-353 pairs in vocabulary",
        "eval/analogy": "analogy accuracy",
        "eval/analogy_coverage": "analogy questions in vocabulary",
        "eval/wordsim353_random": "WordSim-353, random vectors",
        "eval/analogy_random": "analogy, random vectors",
        "eval/similarity_the_of": "similarity('the', 'of')",
        "vocab/size": "vocabulary size",
        "corpus/words": "corpus words",
        "time/words_per_second": "words per second",
        "train/loss": "negative-sampling loss (monitor positions)",
    },
)
