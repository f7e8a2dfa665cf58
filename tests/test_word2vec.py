"""Word2Vec engine: the maths of our skip-gram (noise distribution, subsampling, pairs,
loss), our benchmark code against gensim's own evaluators, the page's queries, and the
corpus loaders (tokenisation, slices, a clear message when a corpus is missing)."""
from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
import torch

from engine import word_eval
from engine.algorithms import word2vec as w2v
from engine.data import DataMissing, corpora


# ---- maths ----------------------------------------------------------------------------------
def test_noise_distribution_is_unigram_to_the_three_quarters():
    counts = torch.tensor([1.0, 16.0, 81.0, 0.0]).double()
    p = w2v.noise_distribution(counts)
    # 1^0.75 = 1, 16^0.75 = 8, 81^0.75 = 27, 0 -> 0; normalised by 36
    assert p.tolist() == pytest.approx([1 / 36, 8 / 36, 27 / 36, 0.0], abs=1e-7)
    # and the sampler the training uses draws words in those proportions
    draws = torch.multinomial(p, 200_000, replacement=True,
                              generator=torch.Generator().manual_seed(0))
    share = torch.bincount(draws, minlength=4).double() / len(draws)
    assert share.tolist() == pytest.approx(p.tolist(), abs=0.005)
    unigram = counts / counts.sum()
    assert p[0] > unigram[0] and p[2] < unigram[2]  # rare words up, frequent words down


def test_keep_probability_follows_the_word2vec_rule():
    counts = torch.tensor([1.0, 10.0, 1000.0, 8989.0]).double()  # total 10,000
    keep = w2v.keep_probability(counts, sample=1e-3)  # threshold = 10 occurrences
    f_over_s = counts / 10.0
    expected = ((f_over_s.sqrt() + 1) / f_over_s).clamp(max=1.0)
    assert keep.tolist() == pytest.approx(expected.tolist(), rel=1e-6)
    assert keep[0] == 1.0 and keep[1] == 1.0  # rare words are always kept
    assert keep[2] == pytest.approx((10 + 1) / 100)
    assert w2v.keep_probability(counts, 0.0).tolist() == [1.0] * 4  # sample=0: keep all


def test_skipgram_pairs_stay_inside_sentences():
    ids = torch.tensor([10, 11, 12, 13, 14])
    sentence = torch.tensor([0, 0, 0, 1, 1])
    centre, context = w2v.skipgram_pairs(ids, sentence, 1, torch.Generator().manual_seed(0))
    assert sorted(zip(centre.tolist(), context.tolist())) == [
        (10, 11), (11, 10), (11, 12), (12, 11), (13, 14), (14, 13)]
    # with window 2 each centre reaches 1 or 2 words: never across the sentence end
    centre, context = w2v.skipgram_pairs(ids, sentence, 2, torch.Generator().manual_seed(1))
    pairs = set(zip(centre.tolist(), context.tolist()))
    assert {(10, 11), (13, 14)} <= pairs and not pairs & {(12, 13), (11, 13), (12, 14)}
    lone = w2v.skipgram_pairs(ids[:1], sentence[:1], 5, torch.Generator())
    assert [len(t) for t in lone] == [0, 0]  # one token (a chunk's tail) makes no pairs


def test_skipgram_loss_is_the_negative_sampling_objective():
    torch.manual_seed(0)
    model = w2v.SkipGram(6, 4)
    torch.nn.init.normal_(model.out.weight)
    centre, context, noise = torch.tensor([1]), torch.tensor([2]), torch.tensor([[3, 4]])
    v, u = model.inp.weight[1].detach(), model.out.weight.detach()
    expected = (-torch.log(torch.sigmoid(v @ u[2])) - torch.log(torch.sigmoid(-v @ u[3]))
                - torch.log(torch.sigmoid(-v @ u[4])))
    with torch.no_grad():
        loss = model(centre, context, noise)
    assert float(loss) == pytest.approx(float(expected), rel=1e-5)
    # at word2vec's initialisation (zero output vectors) every score is 0: (1 + K) log 2
    with torch.no_grad():
        fresh = w2v.SkipGram(6, 4)(centre, context, noise)
    assert float(fresh) == pytest.approx(3 * math.log(2))


def test_sgd_step_is_autograds_sparse_sgd_step():
    torch.manual_seed(0)
    ours, theirs = w2v.SkipGram(9, 4), w2v.SkipGram(9, 4)
    torch.nn.init.normal_(ours.out.weight)
    theirs.load_state_dict(ours.state_dict())
    before = {k: v.clone() for k, v in ours.state_dict().items()}
    # word 1 is a centre twice and a noise word; word 2 a context and a noise word
    centre, context = torch.tensor([1, 1, 3]), torch.tensor([2, 5, 6])
    noise = torch.tensor([[2, 7], [8, 1], [2, 2]])
    ours.sgd_step(centre, context, noise, lr=0.1)
    opt = torch.optim.SGD(theirs.parameters(), lr=0.1)
    theirs(centre, context, noise).sum().backward()
    opt.step()
    for name in ("inp", "out"):
        assert torch.allclose(getattr(ours, name).weight, getattr(theirs, name).weight, atol=1e-6)
    for name, weight in ours.state_dict().items():  # the rows the step touched moved
        assert not torch.equal(weight[1:4], before[name][1:4])


def test_monitor_loss_with_zero_vectors_is_log_two_per_term():
    ids = torch.arange(40) % 7
    sentence = torch.arange(40) // 10
    noise = w2v.noise_distribution(torch.ones(7).double())
    sample = w2v.monitor_sample(ids, sentence, 2, noise, 3, torch.Generator().manual_seed(0))
    zeros = torch.zeros(7, 5)
    for cbow in (False, True):
        assert w2v.monitor_loss(zeros, zeros, sample, cbow) == pytest.approx(4 * math.log(2))
    assert (sample["context"] >= -1).all() and sample["context"].shape[1] == 4


def test_count_words_matches_gensim_vocabulary():
    from gensim.models import Word2Vec

    sentences = corpora.load_corpus("brown", max_words=20_000)
    words, counts = w2v.count_words(sentences, 5)
    model = Word2Vec(min_count=5)
    model.build_vocab(sentences)
    assert set(words) == set(model.wv.index_to_key)
    assert counts.tolist() == sorted(counts.tolist(), reverse=True)
    assert counts[words.index("the")] == model.wv.get_vecattr("the", "count")


# ---- evaluation ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_gensim():
    from gensim.models import Word2Vec

    sentences = corpora.load_corpus("combined", max_words=60_000)
    return Word2Vec(sentences, vector_size=20, min_count=3, epochs=2, workers=1, seed=0).wv


def test_our_benchmarks_agree_with_gensims_evaluators(small_gensim):
    from gensim.test.utils import datapath

    words, vectors = small_gensim.index_to_key, torch.from_numpy(small_gensim.vectors)
    scores = word_eval.evaluate(words, vectors)
    _, spearman, oov_percent = small_gensim.evaluate_word_pairs(datapath("wordsim353.tsv"))
    assert scores["eval/wordsim353"] == pytest.approx(spearman.statistic, abs=1e-6)
    assert scores["eval/wordsim353_coverage"] == pytest.approx(1 - oov_percent / 100, abs=1e-6)
    accuracy, sections = small_gensim.evaluate_word_analogies(datapath("questions-words.txt"))
    total = sections[-1]
    assert scores["eval/analogy"] == pytest.approx(accuracy, abs=1e-9)
    covered = len(total["correct"]) + len(total["incorrect"])
    assert covered > 20 and scores["eval/analogy_coverage"] == pytest.approx(covered / 19544)


def test_random_vectors_score_near_zero():
    words = [w for a, b, _ in word_eval.wordsim_pairs() for w in (a, b)]
    words = list(dict.fromkeys(words))  # every WordSim word, once
    vectors = torch.randn(len(words), 100, generator=torch.Generator().manual_seed(0))
    rho, coverage = word_eval.wordsim(words, vectors)
    assert coverage == 1.0 and abs(rho) < 0.15


def test_queries_and_unknown_words():
    words = ["king", "queen", "man", "woman", "apple"]
    vectors = torch.tensor([[1.0, 1.0, 0.0], [1.0, -1.0, 0.0], [0.0, 1.0, 0.1],
                            [0.0, -1.0, 0.1], [0.0, 0.0, 1.0]])
    assert word_eval.solve_analogy(words, vectors, "man", "king", "woman")[0][0] == "queen"
    assert word_eval.neighbours(words, vectors, "King", k=1)[0][0] != "king"
    assert word_eval.similarity(words, vectors, "man", "man") == pytest.approx(1.0)
    with pytest.raises(word_eval.UnknownWord, match="'xyzzy' is not in the vocabulary"):
        word_eval.neighbours(words, vectors, "xyzzy")
    with pytest.raises(word_eval.UnknownWord, match="type a word"):
        word_eval.neighbours(words, vectors, "  ")


# ---- corpora -------------------------------------------------------------------------------
def test_tokenise_keeps_words_drops_punctuation():
    assert corpora.tokenise("The jury's ``verdict'' -- 1961, co-operation!", True) == [
        "the", "jury's", "verdict", "1961", "co", "operation"]
    assert corpora.tokenise("ROMEO: Hi", False) == ["ROMEO", "Hi"]


def test_corpora_load_from_the_mirror_without_writing_to_it():
    mirror = Path(os.environ["TOP10_DATA_MIRROR"])
    before = {p: p.stat().st_mtime for p in mirror.rglob("*")}
    for name in ("abc", "brown", "shakespeare"):
        sentences = corpora.load_corpus(name, max_words=5_000)
        n = sum(len(s) for s in sentences)
        assert 5_000 <= n < 5_500 and all(s for s in sentences), name
    combined = corpora.load_corpus("combined", max_words=1_000)
    assert combined[0][:2] == ["pm", "denies"]  # abc first, then brown, then Shakespeare
    assert ["before", "we", "proceed", "any", "further", "hear", "me", "speak"] in combined
    assert {p: p.stat().st_mtime for p in mirror.rglob("*")} == before


def test_missing_corpus_raises_data_missing(tmp_path, monkeypatch):
    import nltk

    monkeypatch.setenv("TOP10_DATA_MIRROR", str(tmp_path / "empty"))
    monkeypatch.setenv("TOP10_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(nltk.data, "path", [])

    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(nltk, "download", offline)
    monkeypatch.setattr(corpora.urllib.request, "urlopen", offline)
    corpora._source.cache_clear()
    try:
        for name, label in (("abc", "NLTK corpus 'abc'"), ("shakespeare", "Tiny Shakespeare")):
            with pytest.raises(DataMissing, match=f"{label} is not available.*no network"):
                corpora.load_corpus(name)
    finally:
        corpora._source.cache_clear()


def test_every_shipped_standard_and_full_run_answers_the_page_analogy():
    """The analogy the page opens on is one the shipped vectors get right (first of five)."""
    import json

    from engine.inspect import words as page_words

    folders = [f for f in (Path(__file__).parent.parent / "results" / "artifacts").glob("word2vec-*")
               if json.loads((f / "manifest.json").read_text())["preset"] in ("standard", "full")]
    assert len(folders) == 6  # three variants at two presets
    for folder in folders:
        vocabulary = list(torch.load(folder / "words.pt"))
        vectors = torch.load(folder / "vectors.pt")
        best = word_eval.solve_analogy(vocabulary, vectors, *page_words.ANALOGY)[0][0]
        assert best == page_words.ANALOGY_ANSWER, folder.name
