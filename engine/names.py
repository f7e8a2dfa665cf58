"""The ten cards' keys, their families and the presets, as plain data: what the CLI's parser
and the catalogues' names need, importable without the algorithm modules (and so without
torch). engine.registry holds the cards themselves and refuses to load if they differ. Also
a run's statuses (Status, LIVE), defined here once for the store and everything above it."""
from __future__ import annotations

from enum import StrEnum

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


class Status(StrEnum):
    """A run's status, as the store's index writes it (a StrEnum: each equals its string)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"


# Plain strings, for the index's SQL parameters and the CLI's --status choices.
STATUSES = tuple(s.value for s in Status)
LIVE = (Status.QUEUED.value, Status.RUNNING.value)  # still to end: queued or running
RESTARTABLE = (Status.FAILED.value, Status.CANCELLED.value, Status.INTERRUPTED.value)
