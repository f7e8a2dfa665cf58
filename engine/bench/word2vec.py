"""Word2Vec benchmark: python -m engine bench word2vec [--preset full] [--part ...]

  reference  gensim with its defaults (100 dims, window 5, min_count 5, 5 epochs) on brown:
             the issue's reference figures, scored by engine.word_eval;
  quality    the three variants at a preset (through the run store, so the page shows
             them): WordSim-353, analogy, coverage, random baseline, words/s, and our
             PyTorch skip-gram relative to gensim skip-gram;
  speed      gensim inside our run (callbacks: loss and WordSim-353 every epoch) against a
             plain `Word2Vec(sentences, ...)` call with the same settings, alternated;
  step       one training step of our skip-gram (brown's vocabulary size, the preset's
             batch, dim and noise words): autograd's sparse SGD against SkipGram.sgd_step,
             the gradient written out, alternated on the same batches.
Run it under `flock /tmp/top10-cpu.lock` when quoting timings.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from engine import registry, settings, word_eval
from engine.algorithms import word2vec as w2v
from engine.core import PrintReport
from engine.data.corpora import load_corpus
from engine.jobs import InlineExecutor, JobManager
from engine.store import Store
from engine.terminal import Progress

SHOWN = ("eval/wordsim353", "eval/wordsim353_tune", "eval/wordsim353_test",
         "eval/wordsim353_coverage", "eval/analogy", "eval/analogy_coverage",
         "eval/wordsim353_random", "eval/analogy_random", "vocab/size")


def scores(words: list[str], vectors: torch.Tensor) -> str:
    s = word_eval.evaluate(words, vectors)
    return (f"wordsim353 {s['eval/wordsim353']:.3f} (coverage {s['eval/wordsim353_coverage']:.1%},"
            f" OOV {1 - s['eval/wordsim353_coverage']:.1%})  analogy {s['eval/analogy']:.2%}"
            f" (coverage {s['eval/analogy_coverage']:.1%})")


def reference() -> None:
    from gensim.models import Word2Vec

    sentences = load_corpus("brown")
    for name, sg in (("skip-gram", 1), ("CBOW", 0)):
        started = time.perf_counter()
        model = Word2Vec(sentences, sg=sg, workers=1, seed=0)
        seconds = time.perf_counter() - started
        print(f"reference gensim defaults, brown, {name:9s}: "
              f"{scores(model.wv.index_to_key, torch.from_numpy(model.wv.vectors))}"
              f"  [{seconds:.1f}s]", flush=True)


def quality(preset: str, seed: int, force: bool) -> None:
    store = Store(settings.store_dir())
    manager = JobManager(store, InlineExecutor(store))
    found = {}
    for variant in registry.card("word2vec").variants:
        spec = registry.build_spec("word2vec", variant, preset, seed=seed)
        progress = Progress(f"word2vec/{variant}")
        submission = manager.run_here(spec, force=force, echo=progress)
        progress.close()
        run = store.get(submission.run_id)
        if run["status"] != "done":
            print(f"quality {preset} {variant}: {run['status']} {run['error']}")
            continue
        m = found[variant] = {**run["metrics"], "seconds": run["train_seconds"]}
        print(f"quality {preset} {variant:15s} " + "  ".join(f"{k.split('/')[-1]} {m[k]:.4f}"
                                                            for k in SHOWN if k in m) +
              f"  words/s {m['time/words_per_second']:,.0f}  train {m['seconds']:.1f}s"
              f"{'  (stored)' if submission.cached else ''}  id {submission.run_id}", flush=True)
    if {"skipgram", "torch_skipgram"} <= found.keys():
        ours, theirs = found["torch_skipgram"], found["skipgram"]
        print(f"quality {preset} torch_skipgram / gensim skipgram: wordsim353 "
              f"{ours['eval/wordsim353'] / theirs['eval/wordsim353']:.1%}, words/s "
              f"{ours['time/words_per_second'] / theirs['time/words_per_second']:.1%}")


def speed(preset: str, rounds: int, epochs: int) -> None:
    """Training words per second of gensim with our per-epoch callbacks (what run() does)
    against a plain gensim call with the same settings, alternated. Both clocks: wall
    time, and CPU time of this process (all threads), which other users of a shared
    machine disturb far less."""
    from gensim.models import Word2Vec

    for variant, sg in (("skipgram", 1), ("cbow", 0)):
        cfg = registry.build_spec("word2vec", variant, preset, {"epochs": epochs}).config
        sentences = load_corpus(cfg["corpus"], cfg["lowercase"], cfg["max_words"])
        words, counts = w2v.count_words(sentences, cfg["min_count"])
        ids, sentence = w2v.encode(sentences, {w: i for i, w in enumerate(words)})
        sample = w2v.monitor_sample(ids, sentence, cfg["window"], w2v.noise_distribution(counts),
                                    cfg["negative"], torch.Generator().manual_seed(0))
        work = sum(len(s) for s in sentences) * cfg["epochs"]
        rates = {"plain": [], "ours": []}
        for _ in range(rounds):
            for kind in rates:
                wall, cpu = time.perf_counter(), time.process_time()
                if kind == "plain":
                    Word2Vec(sentences, vector_size=cfg["dim"], window=cfg["window"],
                             min_count=cfg["min_count"], sg=sg, negative=cfg["negative"],
                             sample=cfg["sample"], alpha=cfg["alpha"], workers=cfg["workers"],
                             epochs=cfg["epochs"], seed=0)
                else:
                    on_epoch = w2v.epoch_reporter(words, sample, not sg, cfg["epochs"],
                                                  PrintReport(quiet=True))
                    w2v.train_gensim(cfg, sg, sentences, words, 0, on_epoch)
                rates[kind].append((work / (time.perf_counter() - wall),
                                    work / (time.process_time() - cpu)))
        for clock, i in (("wall", 0), ("cpu", 1)):
            p = statistics.median(r[i] for r in rates["plain"])
            o = statistics.median(r[i] for r in rates["ours"])
            print(f"speed {preset} {variant:8s} {clock:4s} ({epochs} epochs, {rounds} rounds, "
                  f"median): plain gensim {p:,.0f} words/s, with our callbacks {o:,.0f} words/s,"
                  f" ratio {o / p:.1%}", flush=True)


def step(preset: str, rounds: int, steps: int = 200) -> None:
    """ms per training step: autograd + torch.optim.SGD on sparse gradients (how the loop
    stepped before) against SkipGram.sgd_step, on the same batches, rounds alternated."""
    cfg = registry.card("word2vec").default_config(preset)
    vocab, batch, k = 14_163, cfg["batch_size"], cfg["negative"]  # brown at min_count 5
    g = torch.Generator().manual_seed(0)
    noise = w2v.noise_distribution(torch.randint(5, 5_000, (vocab,), generator=g).double())
    batches = [(torch.randint(0, vocab, (batch,), generator=g),
                torch.randint(0, vocab, (batch,), generator=g),
                torch.multinomial(noise, batch * k, replacement=True, generator=g).view(batch, k))
               for _ in range(steps)]

    def autograd(model: w2v.SkipGram) -> None:
        opt = torch.optim.SGD(model.parameters(), lr=cfg["alpha"])
        for centre, context, negatives in batches:
            loss = model(centre, context, negatives).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    def written_out(model: w2v.SkipGram) -> None:
        for centre, context, negatives in batches:
            model.sgd_step(centre, context, negatives, cfg["alpha"])

    print(f"step: vocabulary {vocab:,}, dim {cfg['dim']}, batch {batch}, {k} noise words, "
          f"{steps} steps per timing, {torch.get_num_threads()} threads", flush=True)
    found = {"autograd": [], "sgd_step": []}
    for _ in range(rounds):
        for name, fn in (("autograd", autograd), ("sgd_step", written_out)):
            model = w2v.SkipGram(vocab, cfg["dim"])
            started = time.perf_counter()
            fn(model)
            found[name].append(1000 * (time.perf_counter() - started) / steps)
    before, after = (statistics.median(found[n]) for n in ("autograd", "sgd_step"))
    print(f"step ({rounds} rounds, median): autograd sparse SGD {before:.2f} ms, sgd_step "
          f"{after:.2f} ms, {before / after:.2f}x", flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine bench word2vec")
    parser.add_argument("--part", action="append",
                        choices=("reference", "quality", "speed", "step"),
                        help="repeatable; default: all four")
    parser.add_argument("--preset", default="full", choices=registry.PRESETS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="retrain stored quality runs")
    parser.add_argument("--rounds", type=int, default=2, help="speed: alternations")
    parser.add_argument("--speed-epochs", type=int, default=3, help="speed: epochs per call")
    args = parser.parse_args(argv)
    torch.set_num_threads(settings.threads())
    parts = args.part or ["reference", "quality", "speed", "step"]
    if "reference" in parts:
        reference()
    if "quality" in parts:
        quality(args.preset, args.seed, args.force)
    if "speed" in parts:
        speed(args.preset, args.rounds, args.speed_epochs)
    if "step" in parts:
        step(args.preset, args.rounds)
    return 0
