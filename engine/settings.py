"""Paths and knobs read from environment variables (all documented in docs/settings.md)."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
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
    folder = Path(path).expanduser() if path else _user_dir("XDG_DATA_HOME", ".local/share") / "store"
    if folder.exists() and not folder.is_dir():
        from engine.core import ConfigError

        raise ConfigError("error.store_is_file", path=repr(str(folder)[:80]))
    return folder


REPO_RESULTS = Path(__file__).resolve().parents[1] / "results"


def store_mirrors() -> list[Path]:
    """TOP10_STORE_MIRROR: read-only folder(s) of shipped runs (os.pathsep-separated, laid out
    by `python -m engine store export`), consulted after the writable store; default the
    repository's own results/ folder. Set it empty to use none."""
    raw = os.environ.get("TOP10_STORE_MIRROR")
    if raw is None:
        return [REPO_RESULTS]
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


def shipped_file(relative: str) -> Path | None:
    """A file of the shipped results (e.g. "feature_nets/<name>.pt"), from the first
    TOP10_STORE_MIRROR folder that has it; None if none has."""
    for root in store_mirrors():
        path = Path(root) / relative
        if path.is_file():
            return path
    return None


# A job writes progress at most every FLUSH_SECONDS and, from a side thread, a heartbeat every
# HEARTBEAT_SECONDS even while it loads data; a running row whose heartbeat is older than
# stale_seconds() is taken for dead (its process was killed, its container restarted).
FLUSH_SECONDS = 0.5
HEARTBEAT_SECONDS = 10 * FLUSH_SECONDS
STALE_SECONDS = 12 * HEARTBEAT_SECONDS
# A run that neither reports a metric nor moves its progress for hung_seconds() is hung (a
# deadlock, a stuck read): its heartbeat thread would otherwise keep it "running" forever.
# Every step of more than 2 s reports progress, so 30 min of silence is far past any of them.
HUNG_SECONDS = 1800


def _whole_number(var: str, default: str) -> int:
    text = (os.environ.get(var) or default).strip()
    if not (text.isascii() and text.isdigit()):
        from engine.core import ConfigError

        raise ConfigError("error.env_count", var=var, value=repr(text[:40]))
    return int(text)


def threads() -> int:
    """TOP10_THREADS: torch threads per training job (0: every core). Default 1: on this
    2-core host shared with other work, `python -m engine bench threads` measured 1 thread
    faster than 2 in every row (206 against 97 steps/s, and 108 against 80 beside a busy
    process); 2 threads without the PASSIVE wait policy were 8-15x slower. Set 0 or 2 on
    cores that are yours alone."""
    return _whole_number("TOP10_THREADS", "1") or (os.cpu_count() or 1)


def jobs(public: bool = False, executor: str = "process") -> int | None:
    """TOP10_JOBS: runs trained at once (the app's worker processes, or the Ray driver's
    tasks). Unset: 1 in public mode (each job is a process in the host's memory); on Ray
    None, as many as the cluster's CPUs take at TOP10_THREADS each; else the cores //
    TOP10_THREADS (2 on this 2-core host at 1 thread), at least 1."""
    if (os.environ.get("TOP10_JOBS") or "").strip():
        return max(1, _whole_number("TOP10_JOBS", "1"))
    if public:
        return 1
    return None if executor == "ray" else max(1, (os.cpu_count() or 1) // threads())


def inference_threads() -> int:
    """TOP10_INFERENCE_THREADS: torch threads of the app process, which answers the pages'
    interactive parts (default 1: those are small calls, and the training worker is busy
    on the same cores; measured by `python -m engine bench quick --only latency`)."""
    return max(1, _whole_number("TOP10_INFERENCE_THREADS", "1"))


# OpenMP's default wait policy spins idle threads; beside another busy process on 2 cores
# that made 2-thread training 6-10x slower than 1 thread, where PASSIVE kept it within
# 1.1x (`python -m engine bench threads`). OpenMP reads it when torch is first imported,
# so `import engine` sets it (unless the environment already does) for the app, the
# worker and the command line alike.
WAIT_POLICY = "PASSIVE"


def apply_wait_policy() -> None:
    os.environ.setdefault("OMP_WAIT_POLICY", WAIT_POLICY)


def stale_seconds() -> float:
    """TOP10_STALE_SECONDS: a running run silent this long is marked interrupted (default 60)."""
    seconds = _whole_number("TOP10_STALE_SECONDS", str(int(STALE_SECONDS)))
    least = int(3 * HEARTBEAT_SECONDS)  # a live run beats every HEARTBEAT_SECONDS: allow 3 misses
    if seconds < least:
        from engine.core import ConfigError

        raise ConfigError("error.env_at_least", var="TOP10_STALE_SECONDS", value=repr(str(seconds)),
                          least=least, why=f"a live run beats every {HEARTBEAT_SECONDS:g} s")
    return seconds


def hung_seconds() -> float:
    """TOP10_HUNG_SECONDS: a running run with no report or progress this long is hung; it is
    marked interrupted and, in a worker process, the worker exits (default 1800)."""
    seconds = _whole_number("TOP10_HUNG_SECONDS", str(HUNG_SECONDS))
    if seconds < 1:
        from engine.core import ConfigError

        raise ConfigError("error.env_at_least", var="TOP10_HUNG_SECONDS", value=repr(str(seconds)),
                          least=1, why="a run is judged on its silence in whole seconds")
    return seconds


# The store's write path, in order (engine/store.py): before the first artifact file, between
# an artifact's temp file and its rename, after the last artifact, after the manifest (inside
# finish's transaction, before its commit), after the commit that records or swaps in the run.
FAULT_POINTS = ("before_artifacts", "before_rename", "after_artifacts", "after_manifest",
                "after_swap")
FAULT_ACTIONS = ("kill", "pause")


def fault_at() -> tuple[str, str] | None:
    """TOP10_FAULT_AT: for fault campaigns only (`bench faults`, tests). '<point>' makes a
    process that reaches that write point of the store kill itself (SIGKILL); '<point>:pause'
    stops it there (SIGSTOP, once) until something sends SIGCONT. Unset: None (nothing)."""
    text = os.environ.get("TOP10_FAULT_AT")
    if not text:
        return None
    point, _, action = text.strip().partition(":")
    action = action or "kill"
    if point not in FAULT_POINTS or action not in FAULT_ACTIONS:
        # Not a ConfigError with a translated line: no visitor ever sets this; a typo must
        # still be loud, or a campaign would count kills that never happened.
        raise ValueError(f"TOP10_FAULT_AT={text[:60]!r}: use one of {', '.join(FAULT_POINTS)},"
                         " optionally followed by ':pause'")
    return point, action


EXECUTORS = ("process", "ray")


def executor() -> str:
    """TOP10_EXECUTOR: how queued runs train: 'process' (default: one at a time in the
    worker process) or 'ray' (as Ray tasks on RAY_ADDRESS's cluster, else a local Ray)."""
    from engine.core import ConfigError

    name = (os.environ.get("TOP10_EXECUTOR") or "process").strip().lower()
    if name not in EXECUTORS:
        raise ConfigError("error.executor", name=repr(name), known=" or ".join(EXECUTORS))
    return name


def device_name() -> str:
    """TOP10_DEVICE: where training runs: 'auto' (default: the GPU when torch sees one, else
    the CPU), 'cpu', or 'cuda' / 'cuda:N'. Pages and inference always run on the CPU."""
    return (os.environ.get("TOP10_DEVICE") or "auto").strip().lower()


def device():
    """The torch.device of TOP10_DEVICE; asking for a GPU that torch cannot see is an error
    (a one-line ConfigError naming the variable), never a silent fall back to the CPU."""
    import torch

    from engine.core import ConfigError

    name = device_name()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu" or (name.startswith("cuda") and torch.cuda.is_available()):
        try:
            return torch.device(name)
        except RuntimeError:
            pass
    raise ConfigError("error.device" if torch.cuda.is_available() else "error.device_no_gpu",
                      name=repr(name))


# ---- the environment, read and written here only ----------------------------------------------
# Every other module asks these functions (tests/test_settings_only.py checks it); Ray's own
# switches, which Ray reads from the environment itself, are set in engine/ray_executor.py's
# _ray_switch alone.
def lang_raw() -> str:
    """TOP10_LANG as set (stripped; '' when unset): the CLI's language, checked by cli_lang."""
    return os.environ.get("TOP10_LANG", "").strip()


def public_raw() -> str | None:
    """TOP10_PUBLIC as set, or None (then Streamlit's secrets decide; see engine.public)."""
    return os.environ.get("TOP10_PUBLIC")


def public_queue_raw() -> str | None:
    """TOP10_PUBLIC_QUEUE as set, or None (then Streamlit's secrets decide)."""
    return os.environ.get("TOP10_PUBLIC_QUEUE")


def ray_retries_raw() -> str:
    """TOP10_RAY_RETRIES as set (default '2'), checked by engine.ray_executor.retries."""
    return os.environ.get("TOP10_RAY_RETRIES", "2")


def ray_address() -> str:
    """RAY_ADDRESS: the Ray cluster to join, or 'local' (unset: start a Ray on loopback)."""
    return os.environ.get("RAY_ADDRESS") or "local"


def chromium_path() -> str:
    """TOP10_CHROMIUM: the browser `bench app --browser` drives (default /usr/bin/chromium)."""
    return os.environ.get("TOP10_CHROMIUM", "/usr/bin/chromium")


def allow_mlflow_file_store() -> None:
    """MLflow 3 refuses a plain folder as its store unless MLFLOW_ALLOW_FILE_STORE is set;
    `export mlflow` writes one (unless the environment already says otherwise)."""
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")


def child_env(changes: dict[str, str | None] | None = None,
              python_path: str | None = None) -> dict[str, str]:
    """The environment for a child process: this one's with `changes` (None removes a
    variable) and python_path, if given, put first on PYTHONPATH."""
    env = dict(os.environ)
    for name, value in (changes or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    if python_path:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (python_path, env.get("PYTHONPATH")) if p)
    return env


def override(changes: dict[str, str | None]) -> dict[str, str | None]:
    """Set (None: remove) variables for the rest of this process and the processes it
    starts, as a command that steers its own run does (`bench app --shipped`); returns the
    values they had. Prefer overridden(), which puts them back."""
    before = {name: os.environ.get(name) for name in changes}
    for name, value in changes.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    return before


@contextmanager
def overridden(changes: dict[str, str | None]) -> Iterator[None]:
    """override(changes) for the block, then the variables as they were (benchmarks point
    the store or the workers' fault point somewhere for one part of their run)."""
    before = override(changes)
    try:
        yield
    finally:
        override(before)
