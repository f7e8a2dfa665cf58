"""The ten cards' keys, their families and the presets, as plain data: what the CLI's parser
and the catalogues' names need, importable without the algorithm modules (and so without
torch). engine.registry holds the cards themselves and refuses to load if they differ."""
from __future__ import annotations

KEYS = ("dnn", "cnn", "resnet", "lstm", "word2vec", "transformer", "gan", "diffusion", "gnn",
        "dqn")
FAMILIES = {
    "Vision": ("dnn", "cnn", "resnet"),
    "Sequences": ("lstm", "transformer", "word2vec"),
    "Generative": ("gan", "diffusion"),
    "Graphs": ("gnn",),
    "Control": ("dqn",),
}
PRESETS = ("quick", "standard", "full")
# A run's preset label when it is none of the presets: settings changed by hand, or one point
# of a sweep (a label only: the run id never includes it).
LABELS = ("custom", "sweep")
