"""Dataset loaders. Each one looks in the read-only mirrors first, then the writable data
folder, then downloads the way the field's standard library does; if all three fail it
raises DataMissing with one message a visitor can act on.

Every download runs inside `download(dataset, searched)`: it tells whoever listens (a page's
status line, through `on_download`) that the first use of a dataset is a download, turns any
failure into DataMissing, and remembers a failure for RETRY_AFTER seconds, so a page's
reruns and its other sections do not each wait on a dead network again."""
from __future__ import annotations

import contextvars
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from engine import i18n, settings

RETRY_AFTER = 60.0  # seconds a failed download is not tried again in this process
_failed: dict[str, tuple[float, str]] = {}  # dataset -> (when, the short reason)
_listener: contextvars.ContextVar[Callable[[str], None] | None] = contextvars.ContextVar(
    "top10_download_listener", default=None)  # per thread: each Streamlit session has its own


class DataMissing(i18n.Said, RuntimeError):
    """A dataset is neither on disk nor downloadable. The message says where we looked and
    how to get it (str(): English, for logs and the CLI; text(lang): a page's language).
    `dataset` and `reason` (the download's error, "" when none was tried) stay apart for a
    page's shorter line."""

    def __init__(self, dataset: str, searched: list[Path] | tuple = (), reason: str = ""):
        self.dataset, self.searched, self.reason = dataset, list(searched), reason
        places = ", ".join(str(p) for p in searched) or "(none)"
        super().__init__("error.data_missing_failed" if reason else "error.data_missing",
                         dataset=dataset, places=places, reason=reason)

    def __reduce__(self):  # across processes (a worker's failure) as it was raised
        return type(self), (self.dataset, self.searched, self.reason)


@contextmanager
def on_download(listener: Callable[[str], None]) -> Iterator[None]:
    """Within this block (in this thread), listener(dataset) is called as a download starts."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


@contextmanager
def download(dataset: str, searched: list[Path]) -> Iterator[None]:
    """Around one loader's download attempt of `dataset`: announced to the listener first,
    any failure raised as DataMissing (naming `searched`), and a failure in the last
    RETRY_AFTER seconds raised again at once instead of trying."""
    recent = _failed.get(dataset)
    if recent is not None and time.monotonic() - recent[0] < RETRY_AFTER:
        raise DataMissing(dataset, searched, recent[1])
    if (listener := _listener.get()) is not None:
        listener(dataset)
    try:
        yield
    except Exception as error:
        reason = short_reason(error)
        _failed[dataset] = (time.monotonic(), reason)
        raise DataMissing(dataset, searched, reason) from None
    _failed.pop(dataset, None)


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
