"""Everything a page does with a finished run, without Streamlit: rebuild its model from
the stored weights, run it on a visitor's input (a drawing, a sentence, a prompt, a graph
with a node's citations cut, an episode), and reach the data a page shows beside it.

One module per family, like engine/plots/: vision, text, generative, graphs, control,
words. Each restoring family has one `restore(run, artifacts) -> model`; `restore` below
picks it by the run's algorithm. `engine.ui.restored(run)` is the page's only way in: it
caches the result once per run, so a widget change never rebuilds a model.
"""
from __future__ import annotations

from typing import Any

from engine.inspect import control, generative, graphs, text, vision

RESTORERS = {"dnn": vision.restore, "cnn": vision.restore, "resnet": vision.restore,
             "lstm": text.restore, "transformer": text.restore,
             "gan": generative.restore, "diffusion": generative.restore,
             "gnn": graphs.restore, "dqn": control.restore}


def use_threads(threads: int) -> None:
    """Torch threads for inference in this process (the app's: settings.inference_threads)."""
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def restore(run: dict, artifacts: dict) -> Any:
    """The trained model(s) of a finished run (a stored row), in eval mode; None for an
    algorithm whose page needs only its artifacts (word2vec: the vectors are stored)."""
    restorer = RESTORERS.get(run["algorithm"])
    return None if restorer is None else restorer(run, artifacts)
