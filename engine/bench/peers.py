"""python -m engine bench peers [--quick] [--rows dqn,transformer,diffusion,gnn,cnn,word2vec]

Each row trains ours and the peer a user would pick instead, in this command, one after the
other, on the same cores with the same torch threads, and prints both figures, their ratio
(how many times better ours is: > 1 favours ours), the goal, the load average before and
after, and the thread count; a table of every figure closes the run. The peers are
optional packages (`pip install -r requirements-bench.txt`); a row whose peer is missing
says so and is skipped. This command installs nothing. --quick shrinks every row to a few
minutes on 2 idle cores (smaller budgets, fewer seeds; each row says what it ran).

  dqn          stable-baselines3 DQN, rl-baselines3-zoo's CartPole-v1 settings
  transformer  Hugging Face transformers GPT-2 (nanoGPT's CPU size and recipe), and that
               recipe in our own model
  diffusion    diffusers UNet2DModel with DDPMScheduler / DDIMScheduler, same training seconds
  gnn          PyG GCNConv / GATConv, the recipes of PyG's examples/gcn.py and gat.py
  cnn          the torchvision Dataset + DataLoader loop on pytorch/examples' mnist Net
  word2vec     gensim skip-gram against our PyTorch skip-gram
"""
from __future__ import annotations

import importlib.util
import statistics
import sys
from dataclasses import dataclass

import torch

from engine import settings
from engine.terminal import OneLineParser, load_line

INSTALL = "pip install -r requirements-bench.txt"


@dataclass
class Figure:
    """One measured pair. ratio() > 1 means ours is better (higher, or lower where lower
    is better); goal: the ratio the issue asks for (None: only reported)."""
    row: str
    what: str
    unit: str
    ours: float | None
    peer: float | None
    higher_is_better: bool
    goal: float | None = None

    def ratio(self) -> float | None:
        if not self.ours or not self.peer or self.ours < 0 or self.peer < 0:
            return None  # not reached (None), or a correlation at or below zero
        return self.ours / self.peer if self.higher_is_better else self.peer / self.ours

    def verdict(self) -> str:
        ratio = self.ratio()
        if self.goal is None:
            return ""
        if ratio is None:
            return "goal unknown (a side did not get there)"
        return f"goal >= {self.goal:g}x: {'met' if ratio >= self.goal else 'MISSED'}"

    def line(self) -> str:
        ratio = self.ratio()
        return (f"{self.row:11s} {self.what:44s} ours {shown(self.ours):>10s}  "
                f"peer {shown(self.peer):>10s} {self.unit:10s} "
                f"ratio {f'{ratio:.2f}x' if ratio else '-':>6s}  {self.verdict()}")


def shown(value: float | None) -> str:
    if value is None:
        return "not reached"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


# ---- the rows ------------------------------------------------------------------------------
# Each row's budget: "full" is the table, "quick" a few minutes on 2 idle cores.
BUDGETS = {
    "dqn": {"full": {"seeds": 5}, "quick": {"seeds": 3, "total_steps": 50_000}},
    "transformer": {"full": {"target": 1.88}, "quick": {"target": 2.1}},
    "diffusion": {"full": {}, "quick": {"train_steps": 300, "fid_n": 200}},
    "gnn": {"full": {"seeds": 10, "epochs": 200}, "quick": {"seeds": 2, "epochs": 200}},
    "cnn": {"full": {"images": 6400}, "quick": {"images": 1600}},
    # quick: standard's 5 epochs (one epoch left WordSim-353 near 0 for both sides)
    "word2vec": {"full": {"preset": "full"}, "quick": {"preset": "standard"}},
}


def dqn_row(budget: dict) -> list[Figure]:
    from engine import registry
    from engine.algorithms import dqn
    from engine.bench.dqn import sb3_dqn
    from engine.core import PrintReport

    spec = registry.build_spec("dqn", "dqn", "standard", budget)
    cfg = spec.config
    print(f"dqn: CartPole-v1, {cfg['seeds']} seeds x {cfg['total_steps']:,} steps, greedy "
          f"check of {cfg['eval_episodes']} episodes every {cfg['eval_every']:,} steps; "
          f"solved = {dqn.SOLVE_CHECKS} checks in a row >= 475", flush=True)
    ours = dqn.run(spec, PrintReport(quiet=True)).artifacts
    agents = [sb3_dqn(cfg, seed) for seed in ours["seeds"]]
    peer = {key: [a[key] for a in agents] for key in ("final_return", "steps", "seconds")}
    peer["solved_step"] = [a["solved_step"] or -1 for a in agents]  # as our artifacts: -1 = not
    peer["solved_seconds"] = [a["solved_seconds"] or -1.0 for a in agents]
    figures = []
    for name, art in (("ours", ours), ("sb3", peer)):
        print(f"dqn: {name} per seed: solved at "
              + ", ".join(f"{s:,}" if s >= 0 else "-" for s in art["solved_step"])
              + " steps; final return " + ", ".join(f"{r:.0f}" for r in art["final_return"]))
        art.update(dqn.solve_summary(art), rate=sum(art["steps"]) / sum(art["seconds"]),
                   final=statistics.median(art["final_return"]))
    for what, unit, key, higher, goal in (
            ("env steps to solved (median seed)", "steps", "median_steps", False, 2.0),
            ("seconds to solved (median seed)", "s", "median_seconds", False, 2.0),
            ("final greedy return (median seed)", "return", "final", True, None),
            ("env steps per second (with checks)", "steps/s", "rate", True, None)):
        figures.append(Figure("dqn", what, unit, ours[key], peer[key], higher, goal))
    return figures


def transformer_row(budget: dict) -> list[Figure]:
    from engine.algorithms.common import resolve_precision
    from engine.bench.transformer import FAST, NANOGPT, HFCharGPT, train

    target, limit = budget["target"], {"steps": budget["steps"]} if "steps" in budget else {}
    print(f"transformer: tiny Shakespeare, seconds of training to whole-validation loss "
          f"{target} (checked every 50 steps, checks not counted)", flush=True)
    seconds = lambda result: result.metrics["time/seconds_to_target"]  # NaN: not reached  # noqa: E731
    ours = seconds(train("ours (batch 32, lr 3e-3)", {**FAST, **limit}, target, 0))
    ours_fp32 = seconds(train("ours (batch 32, lr 3e-3)", {**FAST, **limit, "precision": "fp32"},
                              target, 0))
    recipe = seconds(train("nanoGPT recipe, our model", {**NANOGPT, **limit}, target, 0))
    hf = seconds(train("nanoGPT recipe, transformers GPT-2", {**NANOGPT, **limit}, target, 0,
                       HFCharGPT))
    reached = [s for s in (recipe, hf) if s == s]
    value = lambda s: s if s == s else None  # noqa: E731
    ours_as = resolve_precision(FAST["precision"])  # the peers run in fp32, as they do on a CPU
    return [Figure("transformer", f"s to val {target}, ours {ours_as} vs best peer fp32", "s",
                   value(ours), min(reached) if reached else None, False, 2.0),
            Figure("transformer", f"s to val {target}, fp32 both: vs best peer", "s",
                   value(ours_fp32), min(reached) if reached else None, False),
            Figure("transformer", f"s to val {target}, ours {ours_as} vs nanoGPT recipe", "s",
                   value(ours), value(recipe), False),
            Figure("transformer", f"s to val {target}, ours {ours_as} vs HF GPT-2", "s",
                   value(ours), value(hf), False)]


def diffusion_row(budget: dict) -> list[Figure]:
    from engine import registry
    from engine.algorithms import diffusion, yardstick
    from engine.bench import diffusion as peer
    from engine.core import PrintReport

    cfg = registry.build_spec("diffusion", "ddpm_cosine", "standard", budget).config
    seed = 0
    cached = diffusion.weights_path("ddpm_cosine", cfg, seed).exists()
    model, seconds, _ = diffusion.train_one("ddpm_cosine", cfg, seed, PrintReport(quiet=True),
                                            0, cfg["train_steps"])
    params = sum(p.numel() for p in model.parameters())
    width = peer.peer_width(params)
    torch.manual_seed(seed)
    theirs = peer.diffusers_unet(width)
    print(f"diffusion: {cfg['dataset']}, cosine schedule T={cfg['timesteps']}, batch "
          f"{cfg['batch_size']}; ours {params:,} params trained {cfg['train_steps']} steps in "
          f"{seconds:.1f} s" + (" (stored from an earlier run of the same settings)" if cached
                                else "")
          + f"; diffusers UNet2DModel width {width}, "
          f"{sum(p.numel() for p in theirs.parameters()):,} params, trained as many seconds",
          flush=True)
    theirs, peer_steps = peer.train_peer_for(seconds, theirs, cfg, seed)
    print(f"diffusion: the peer did {peer_steps} steps in {seconds:.1f} s", flush=True)
    noise = torch.randn(cfg["fid_n"], 1, 28, 28, generator=torch.Generator().manual_seed(10_000))
    schedulers = peer.peer_schedulers(cfg)
    sched = diffusion.make_schedule("cosine", cfg["timesteps"])
    bf16 = diffusion.resolve_precision(cfg["precision"]) == "bf16"
    figures = []
    for sampler, variant in (("ddpm", "ddpm_cosine"), ("ddim", "ddim_cosine")):
        torch.manual_seed(20_000)
        ours_images, ours_ms = peer.sampled(
            lambda x, variant=variant: diffusion.sample(variant, model, sched, x, cfg)[0], noise)
        torch.manual_seed(20_000)
        peer_images, peer_ms = peer.sampled(
            lambda x, sampler=sampler: peer.sample_peer(theirs, schedulers[sampler], x, bf16), noise)
        ours_s, peer_s = (yardstick.evaluate_samples(images, cfg["dataset"])
                          for images in (ours_images, peer_images))
        for name, s in (("ours", ours_s), ("diffusers", peer_s)):
            print(f"diffusion {sampler}: {name}: FID {s['eval/fid']:.1f} (floor "
                  f"{s['eval/fid_floor']:.1f}, pixel-Gauss {s['eval/fid_pixel']:.1f}, noise "
                  f"{s['eval/fid_noise']:.1f}), precision {s['eval/precision']:.3f}, recall "
                  f"{s['eval/recall']:.3f}, class entropy {s['eval/class_entropy']:.3f}, "
                  f"confidence {s['eval/confidence']:.3f}", flush=True)
        figures += [Figure("diffusion", f"{sampler} FID at equal training seconds", "FID",
                           ours_s["eval/fid"], peer_s["eval/fid"], False, 1.0),
                    Figure("diffusion", f"{sampler} sampling time per image", "ms",
                           ours_ms, peer_ms, False, 2.0)]
    return figures


def gnn_row(budget: dict) -> list[Figure]:
    from engine.bench.gnn import PYG_RECIPES, ours, pyg_recipe

    seeds, epochs = budget["seeds"], budget["epochs"]
    print(f"gnn: Cora public split, {epochs} epochs, {seeds} seeds alternating; an epoch is "
          f"one training step and one evaluation", flush=True)
    figures = []
    for conv in ("gcn", "gat"):
        peer_ms, peer_acc, our_ms, our_acc = [], [], [], []
        for seed in range(seeds):
            acc, times = pyg_recipe("cora", seed, epochs, conv)
            peer_ms.append(1000 * statistics.median(times))
            peer_acc.append(acc)
            m = ours(conv, "standard", {"seeds": 1, "epochs": epochs, **PYG_RECIPES[conv]}, seed)
            our_ms.append(m["time/epoch_ms"])
            our_acc.append(m["test/acc"])
        figures += [Figure("gnn", f"{conv.upper()} ms per epoch (median)", "ms",
                           statistics.median(our_ms), statistics.median(peer_ms), False, 2.0),
                    Figure("gnn", f"{conv.upper()} test accuracy (mean, points)", "%",
                           100 * statistics.mean(our_acc), 100 * statistics.mean(peer_acc),
                           True)]
        gap = figures[-1].ours - figures[-1].peer
        print(f"gnn {conv}: accuracy ours - PyG {gap:+.2f} points "
              f"({'within' if gap >= -0.5 else 'NOT within'} 0.5 points)", flush=True)
    return figures


def cnn_row(budget: dict) -> list[Figure]:
    from engine.bench.cnn import precision_rows

    images = budget["images"]
    print(f"cnn: pytorch/examples mnist Net, batch 64, {images} images per loop, "
          f"our loop against the torchvision DataLoader loop in the same precision", flush=True)
    goals = {"fp32": 1.5, "bf16": 3.0}
    return [Figure("cnn", f"Net training, {precision} in both loops", "images/s", ours,
                   baseline, True, goals[precision])
            for precision, ours, baseline in precision_rows("mnist", 64, images)]


def word2vec_row(budget: dict) -> list[Figure]:
    from engine import registry
    from engine.algorithms import word2vec
    from engine.core import PrintReport

    preset = budget["preset"]
    overrides = {k: v for k, v in budget.items() if k != "preset"}
    found = {}
    for variant in ("torch_skipgram", "skipgram"):
        spec = registry.build_spec("word2vec", variant, preset, overrides)
        found[variant] = word2vec.run(spec, PrintReport(quiet=True)).metrics
    cfg = spec.config
    print(f"word2vec: {cfg['corpus']}, preset {preset}, {cfg['epochs']} "
          f"epochs, dim {cfg['dim']}, window {cfg['window']}, negative {cfg['negative']}; "
          f"WordSim-353 halves (engine.word_eval.HALVES): tune = the file's even rows, test = "
          f"its odd rows", flush=True)
    for variant, m in found.items():
        print(f"word2vec {variant}: WordSim-353 all {m['eval/wordsim353']:.4f}, tune half "
              f"{m['eval/wordsim353_tune']:.4f}, test half {m['eval/wordsim353_test']:.4f}; "
              f"{m['time/words_per_second']:,.0f} words/s", flush=True)
    ours, peer = found["torch_skipgram"], found["skipgram"]
    return [Figure("word2vec", "training words per second", "words/s",
                   ours["time/words_per_second"], peer["time/words_per_second"], True, 0.5),
            Figure("word2vec", "WordSim-353 test half (Spearman)", "rho",
                   ours["eval/wordsim353_test"], peer["eval/wordsim353_test"], True)]


# row -> (function, the modules its peer needs, the peer in words)
ROWS = {"dqn": (dqn_row, ("stable_baselines3",), "stable-baselines3 DQN"),
        "transformer": (transformer_row, ("transformers",), "transformers GPT-2"),
        "diffusion": (diffusion_row, ("diffusers",), "diffusers UNet2DModel"),
        "gnn": (gnn_row, ("torch_geometric",), "PyG GCNConv / GATConv"),
        "cnn": (cnn_row, ("torchvision",), "torchvision DataLoader loop"),
        "word2vec": (word2vec_row, ("gensim",), "gensim")}


def missing(modules: tuple[str, ...]) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


def main(argv: list[str]) -> int:
    parser = OneLineParser(prog="python -m engine bench peers",
                           description="ours against the peers a user would pick instead, "
                                       "side by side in one command")
    parser.add_argument("--quick", action="store_true", help="each row a few minutes")
    parser.add_argument("--rows", default=",".join(ROWS),
                        help=f"comma-separated, from: {','.join(ROWS)}")
    args = parser.parse_args(argv)
    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = [r for r in rows if r not in ROWS]
    if unknown or not rows:
        parser.error(f"--rows takes some of {','.join(ROWS)}; got {args.rows!r}")
    sys.stdout.reconfigure(line_buffering=True)
    torch.set_num_threads(settings.threads())
    print(f"# bench peers{' --quick' if args.quick else ''}: torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads (TOP10_THREADS), device {settings.device()}")
    figures = []
    for row in rows:
        run, modules, peer = ROWS[row]
        if absent := missing(modules):
            print(f"\n## {row}: skipped: the peer ({peer}) is not installed "
                  f"(missing {', '.join(absent)}); install it with `{INSTALL}`")
            continue
        print(f"\n## {row} against {peer}; before: {load_line()}")
        found = run(BUDGETS[row]["quick" if args.quick else "full"])
        for figure in found:
            print(figure.line())
        print(f"## {row} done; after: {load_line()}")
        figures += found
    if figures:
        print(f"\n# all rows ({torch.get_num_threads()} threads; ratio > 1 favours ours)")
        for figure in figures:
            print(figure.line())
    return 0
