"""What a newcomer waits for: each page's interactive inference on the standard preset's
models (median of 5) and each card's quick preset training seconds.

    python -m engine bench quick [--only latency|training] [--cards dnn,cnn,...]

Latency runs at settings.inference_threads() (the app's), training at settings.threads().

Latency uses the standard preset's architectures with their weights as initialised (the
time of a forward pass does not depend on the weight values) and calls the same
engine.inspect functions the pages call. Training runs every variant of each card's quick
preset here, in this process (no store), at TOP10_THREADS, reading data from the usual data
folder: prep/seconds (the yardstick's first training) is printed apart from training.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from engine import registry, settings
from engine.core import PrintReport
from engine.jobs import seed_everything

REPEATS = 5


def _standard(key: str) -> dict:
    return registry.card(key).default_config("standard")


def latency_cases() -> dict[str, callable]:
    """Page -> a function doing what its interactive part does once."""
    from engine.algorithms import cnn, diffusion, dnn, dqn, gan, gnn, lstm, resnet, transformer
    from engine.inspect import control, generative, graphs, text, vision, words

    digit = vision.test_image("mnist", 0)

    def classify(module, key):
        models = {v: module.build_model(v, _standard(key)).eval()
                  for v in registry.card(key).variants}
        return lambda: vision.drawing_probabilities(models, digit, "mnist")

    def write(module, key, variant):
        cfg = _standard(key)
        model = module.build_model(variant, cfg, 65).eval()
        return lambda: text.generate(model, "ROMEO:\n", 300, temperature=0.8, top_k=0,
                                     context=cfg["context"])

    gan_cfg, diff_cfg, gnn_cfg, dqn_cfg = (_standard(k) for k in ("gan", "diffusion", "gnn", "dqn"))
    generator = gan.build_model("dcgan", gan_cfg)[0].eval()
    denoiser = diffusion.build_model("ddpm_cosine", diff_cfg).eval()
    graph = graphs.load_graph(gnn_cfg["dataset"])
    gat = gnn.build_model("gat", gnn_cfg, graph.x.shape[1], graph.num_classes).eval()
    q = dqn.build_model("dqn", dqn_cfg)
    vocabulary = [f"w{i}" for i in range(15_000)]  # about brown's vocabulary at min_count 5
    vectors = torch.randn(len(vocabulary), 100)
    return {
        "dnn: classify a drawing (all variants)": classify(dnn, "dnn"),
        "cnn: classify a drawing (all variants)": classify(cnn, "cnn"),
        "resnet: classify a drawing (all variants)": classify(resnet, "resnet"),
        "lstm: generate 300 characters (lstm)": write(lstm, "lstm", "lstm"),
        "transformer: generate 300 characters (learned)": write(transformer, "transformer",
                                                                "learned"),
        "gan: 16 new samples (dcgan)": lambda: generative.gan_samples(generator, gan_cfg, 1),
        "diffusion: 8 new samples (ddpm_cosine, T steps)": lambda: generative.diffusion_samples(
            denoiser, "ddpm_cosine", diff_cfg, 1),
        "diffusion: 8 new samples (ddim_cosine)": lambda: generative.diffusion_samples(
            denoiser, "ddim_cosine", diff_cfg, 1),
        "gnn: cut a node's citations (gat)": lambda: (graphs.predict(gat, graph),
                                                       graphs.predict(gat, graph, cut=0)),
        "dqn: replay one episode, rendered (untrained: short)": lambda: control.play_episode(
            dqn_cfg["env"], q, 0, frame_every=2, max_frames=260),
        "word2vec: 10 nearest neighbours": lambda: words.neighbours(vocabulary, vectors, "w7"),
    }


def latency(cards: list[str]) -> None:
    print(f"interactive inference, standard-preset models, median of {REPEATS} "
          f"(threads {torch.get_num_threads()})")
    for name, case in latency_cases().items():
        if name.split(":")[0] not in cards:
            continue
        case()  # warm-up: first-call allocations, data loading
        times = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            case()
            times.append(time.perf_counter() - started)
        print(f"  {name:50s} {statistics.median(times):7.3f} s", flush=True)


def training(cards: list[str]) -> None:
    print(f"quick preset training (threads {torch.get_num_threads()}, data {settings.data_dir()})")
    total = 0.0
    for key in cards:
        card = registry.card(key)
        for variant in card.variants:
            spec = registry.build_spec(key, variant, "quick")
            seed_everything(spec.seed)
            started = time.perf_counter()
            result = card.run(spec, PrintReport(quiet=True))
            wall = time.perf_counter() - started
            prep = result.metrics.get("prep/seconds", 0.0)
            total += wall
            print(f"  {key:12s} {variant:16s} train {result.train_seconds:6.1f} s   "
                  f"wall {wall:6.1f} s" + (f"   prep {prep:.1f} s" if prep else ""), flush=True)
    print(f"  all quick presets: {total:.0f} s wall")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine bench quick")
    parser.add_argument("--only", choices=("latency", "training"))
    parser.add_argument("--cards", default=",".join(registry.KEYS))
    args = parser.parse_args(argv)
    cards = [c for c in args.cards.split(",") if c]
    torch.set_num_threads(settings.inference_threads() if args.only == "latency"
                          else settings.threads())
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.only != "training":
        latency(cards)
    if args.only != "latency":
        training(cards)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0
