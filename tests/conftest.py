"""Shared fixtures. Tests read the data mirror named by TOP10_DATA_MIRROR (.ci/run sets it
to ../shared/data); each test gets its own empty store, and the session one data folder."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `engine` for tests and for pages run under AppTest
MIRROR = ROOT.parent / "shared" / "data"
# For a developer's checkout beside shared/ (as CI lays it out), use that mirror when none is set.
if not os.environ.get("TOP10_DATA_MIRROR") and MIRROR.exists():
    os.environ["TOP10_DATA_MIRROR"] = str(MIRROR)
os.environ.setdefault("TOP10_THREADS", "2")
# Tests start from no shipped results (a test that wants some makes its own folder), so the
# repository's results/ never changes what they see.
os.environ.setdefault("TOP10_STORE_MIRROR", "")


PAGE_DRIVERS = ("AppTest", "open_page(")  # what runs a Streamlit script


def _drives_a_page(item) -> bool:
    """The test, or a fixture it uses, runs a page script (AppTest): seconds each."""
    import inspect

    funcs = [getattr(item, "function", None)]
    for defs in getattr(item, "_fixtureinfo", None) and item._fixtureinfo.name2fixturedefs.values() or []:
        funcs += [d.func for d in defs]
    for func in filter(None, funcs):
        try:
            source = inspect.getsource(func)
        except (OSError, TypeError):
            continue
        if any(marker in source for marker in PAGE_DRIVERS):
            return True
    return False


def pytest_collection_modifyitems(config, items):
    """Mark `page` every test that drives a page, so `-m "not slow and not page"` is the unit
    loop (under 30 s) and `-m "not slow"` the fast loop with the pages."""
    for item in items:
        if item.module.__name__.startswith("test_page_") or _drives_a_page(item):
            item.add_marker(pytest.mark.page)


@pytest.fixture(scope="session")
def shared_data_dir(tmp_path_factory) -> Path:
    """One writable data folder for the whole session: what is processed or trained once
    there (PyG's processed graphs) is reused, as in real use. It starts with the yardstick
    networks the repository ships in results/feature_nets, as a fresh install finds them, so
    the GAN and diffusion tests do not train a classifier first (its training is the CNN
    page's loop, which the CNN tests run)."""
    folder = tmp_path_factory.mktemp("data")
    shipped = ROOT / "results" / "feature_nets"
    if shipped.is_dir():
        shutil.copytree(shipped, folder / "feature_nets")
    return folder


@pytest.fixture
def shipped_results(monkeypatch):
    """The results the repository ships, as a fresh clone serves them (the default for the
    tests is none, above)."""
    monkeypatch.setenv("TOP10_STORE_MIRROR", str(ROOT / "results"))


@pytest.fixture
def store_dir(tmp_path, monkeypatch, shared_data_dir) -> Path:
    path = tmp_path / "store"
    monkeypatch.setenv("TOP10_STORE", str(path))
    monkeypatch.setenv("TOP10_DATA_DIR", str(shared_data_dir))
    return path


@pytest.fixture
def store(store_dir):
    from engine.store import Store

    return Store(store_dir)


@pytest.fixture
def stored_run(store):
    """A function writing one run the way a job would (queue, claim, beat, then finish or
    end, with no training) and returning its row:
    stored_run(algorithm, variant, config, metrics, history=(), seed=0, preset="quick",
               status="done", run_id=None)."""
    from engine.core import RunSpec

    def write(algorithm: str, variant: str, config: dict, metrics: dict | None,
              history: list[tuple[int, float, str, float]] = (), seed: int = 0,
              preset: str = "quick", status: str = "done", run_id: str | None = None) -> dict:
        spec = RunSpec(algorithm, variant, config, seed, preset)
        run_id = run_id or f"{algorithm}-{variant}-{abs(hash((variant, seed, str(config)))):012x}"
        store.enqueue(run_id, spec)
        if status != "queued":
            store.claim_next(run_id)
            store.beat(run_id, 0.5, "halfway", list(history))
        if status == "done":
            store.finish(run_id, metrics, params=1000, train_seconds=2.0, artifacts={}, env={})
        elif status in ("failed", "cancelled", "interrupted"):
            store.end(run_id, status, f"{status} here\nTraceback line 1\nline 2")
        return store.get(run_id)

    return write
