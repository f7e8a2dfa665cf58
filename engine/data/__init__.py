"""Dataset loaders. Each one looks in the read-only mirrors first, then the writable data
folder, then downloads the way the field's standard library does; if all three fail it
raises DataMissing with one message a visitor can act on."""
from __future__ import annotations

import tempfile
from pathlib import Path

from engine import settings


class DataMissing(RuntimeError):
    """A dataset is neither on disk nor downloadable. The message says where we looked."""

    def __init__(self, dataset: str, searched: list[Path], reason: str = ""):
        places = ", ".join(str(p) for p in searched) or "(none)"
        why = f" Download failed: {reason}." if reason else ""
        super().__init__(
            f"{dataset} is not available. Looked in: {places}.{why} "
            f"Set TOP10_DATA_MIRROR to a folder holding it (laid out like shared/data) "
            f"or TOP10_DATA_DIR to a writable folder on a machine with network access."
        )
        self.dataset = dataset


def search_roots() -> list[Path]:
    """Mirrors first (never written to), then the writable data folder."""
    return [*settings.data_mirrors(), settings.data_dir()]


def find_file(relative: str) -> Path | None:
    """The first existing `root/relative` over search_roots(), or None."""
    for root in search_roots():
        candidate = root / relative
        if candidate.exists():
            return candidate
    return None


def short_reason(error: BaseException) -> str:
    """One line from a download error (urllib errors nest their real reason)."""
    text = str(getattr(error, "reason", "") or error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:160]


def use_nltk_data() -> list[Path]:
    """Point NLTK at <root>/nltk_data for every search root (mirrors first); return them."""
    import nltk

    roots = [r / "nltk_data" for r in search_roots()]
    for path in reversed(roots):
        if str(path) not in nltk.data.path:
            nltk.data.path.insert(0, str(path))
    return roots


def check_can_save(*paths: Path) -> None:
    """Before a long training whose result is saved under the data folder (the GAN/diffusion
    yardstick, diffusion weights): each path that does not exist yet must be writable, else
    one line naming the folder and TOP10_DATA_DIR (not a raw torch error minutes later)."""
    from engine.core import ConfigError

    for path in paths:
        if path.exists():
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".write-check-"):
                pass
        except OSError as error:
            why = error.strerror or error
            raise ConfigError("error.data_not_writable", file=path.name, folder=path.parent,
                              why=why) from None
