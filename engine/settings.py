"""Paths and knobs read from environment variables (all documented in README.md)."""
from __future__ import annotations

import os
from pathlib import Path


def _user_dir(xdg_var: str, fallback: str) -> Path:
    base = os.environ.get(xdg_var) or str(Path.home() / fallback)
    return Path(base) / "top10"


def data_dir() -> Path:
    """TOP10_DATA_DIR: the writable folder where downloads and processed data go."""
    path = os.environ.get("TOP10_DATA_DIR")
    return Path(path).expanduser() if path else _user_dir("XDG_CACHE_HOME", ".cache") / "data"


def data_mirrors() -> list[Path]:
    """TOP10_DATA_MIRROR: read-only folder(s), separated by os.pathsep, laid out like shared/data."""
    raw = os.environ.get("TOP10_DATA_MIRROR", "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


def store_dir() -> Path:
    """TOP10_STORE: the folder holding runs.sqlite and one artifact folder per run."""
    path = os.environ.get("TOP10_STORE")
    return Path(path).expanduser() if path else _user_dir("XDG_DATA_HOME", ".local/share") / "store"


def threads() -> int:
    """TOP10_THREADS: torch threads per training job (default: every core)."""
    return max(1, int(os.environ.get("TOP10_THREADS", "0") or 0) or (os.cpu_count() or 1))
