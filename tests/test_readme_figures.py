"""README's table of shipped results says what the shipped manifests say: every figure in its
standard and full columns is the headline of a shipped run of that card, preset and variant,
written to the digits shown. A refresh that changes a result fails here until README follows."""
from __future__ import annotations

import json
import re
from pathlib import Path

from engine import registry

ROOT = Path(__file__).resolve().parent.parent
TITLES = {"DNN": "dnn", "CNN": "cnn", "ResNet": "resnet", "LSTM": "lstm", "Transformer": "transformer",
          "Word2Vec": "word2vec", "GAN": "gan", "Diffusion": "diffusion", "GNN": "gnn", "DQN": "dqn"}
# "residual-32 99.28 %", "DDIM 280.4", "(lstm 1.628)" or a bare "500": a variant (its name, or
# the start of it, with an optional -depth) and a number, with % for an accuracy.
FIGURE = re.compile(r"(?:([A-Za-z_0-9]+?)(?:-\d+)? )?(\d+(?:\.\d+)?)( %)?")


def shipped_headlines() -> dict[tuple[str, str], dict[str, float]]:
    """(card, preset) -> {variant: headline} of the shipped runs."""
    out: dict[tuple[str, str], dict[str, float]] = {}
    for manifest in (ROOT / "results" / "artifacts").glob("*/manifest.json"):
        m = json.loads(manifest.read_text())
        headline = registry.card(m["algorithm"]).headline
        out.setdefault((m["algorithm"], m["preset"]), {})[m["variant"]] = m["metrics"][headline]
    return out


def readme_rows() -> list[list[str]]:
    lines = (ROOT / "README.md").read_text().splitlines()
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines
            if line.startswith("| ") and line.split("|")[1].strip() in TITLES]


def test_readme_figures_are_the_shipped_headlines():
    shipped = shipped_headlines()
    rows = readme_rows()
    assert len(rows) == 10
    checked = 0
    for row in rows:
        key = TITLES[row[0]]
        for preset, cell in (("standard", row[4]), ("full", row[5])):
            runs = shipped[(key, preset)]
            for name, number, percent in FIGURE.findall(cell):
                value = float(number) / (100 if percent else 1)
                digits = len(number.split(".")[1]) if "." in number else 0
                digits += 2 if percent else 0
                variants = ([v for v in runs if v.startswith(name.lower())] if name
                            else [v for v in runs if v != "random"])
                assert variants, f"{row[0]} {preset}: no shipped variant named {name!r}"
                for variant in variants:
                    assert round(runs[variant], digits) == round(value, digits), (
                        f"README says {row[0]} {preset} {name or variant} {number}, "
                        f"the manifest {runs[variant]:.4f}")
                checked += 1
    assert checked >= 20
