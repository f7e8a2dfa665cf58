"""Dashboard benchmarks: page render times from a warm store (AppTest), Home with many
stored runs, and peak memory of the app process serving every page in a real browser.

    python -m engine bench app [--fill-runs 200] [--memory] [--shipped [DIR]]
                               [--worker-memory cnn/modern]

Uses the store named by TOP10_STORE (train something first: `python -m engine run dnn`).
--fill-runs N adds N real tiny DNN runs (seeds 0..N-1, 1,000 images, 1 epoch) to a copy of
the store first; --memory starts `streamlit run Home.py` and visits every page in chromium;
--shipped renders from a shipped folder alone (default results/) behind an empty store, as
a fresh clone does, and prints its size per algorithm; --worker-memory ALG/VARIANT trains
that variant's standard preset in a worker process (a scratch store) and prints its peak RSS;
a comma-separated list trains them all at once, one worker each, and sums their peaks.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine import registry, settings
from engine.names import LIVE

ROOT = Path(__file__).resolve().parents[2]


def page_files() -> list[Path]:
    pages = ROOT / "pages"
    return [ROOT / "Home.py"] + [pages / f"{name}.py" for name in (*registry.KEYS, "compare", "runs")]


def render_seconds(path: Path, preset: str, repeats: int = 3) -> float:
    """Median wall time of a page's script run (at `preset`, whose stored runs it then
    shows) after one warm-up run."""
    from streamlit.testing.v1 import AppTest

    if path.name == "Home.py":  # navigation app: AppTest reruns only the page, so start anew
        AppTest.from_file(str(path), default_timeout=120).run()  # warm-up
        return _median_run_seconds(lambda: AppTest.from_file(str(path), default_timeout=120),
                                   repeats, path.name)
    from engine import ui

    at = AppTest.from_file(str(path), default_timeout=120)
    at.session_state[ui.NAVIGATED] = True  # as after Home.py's navigation: the page renders
    at.run()
    picker = [w for w in at.segmented_control if w.key == f"{path.stem}:preset"]
    if picker:
        picker[0].set_value(preset)
        at.run()
    return _median_run_seconds(lambda: at, repeats, path.name)


def _median_run_seconds(next_app, repeats: int, name: str) -> float:
    """Median wall time of `repeats` script runs of the AppTest that next_app() hands back
    (a fresh one or the same one each time); an exception in the page stops the benchmark."""
    times = []
    for _ in range(repeats):
        at = next_app()
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
        if at.exception:
            raise RuntimeError(f"{name}: {at.exception[0].value}")
    return statistics.median(times)


def fill_runs(count: int) -> None:
    from engine.jobs import InlineExecutor, JobManager
    from engine.store import Store

    store = Store(settings.store_dir())
    manager = JobManager(store, InlineExecutor(store))
    for seed in range(count):
        spec = registry.build_spec("dnn", "logreg", "quick",
                                   {"train_limit": 1000, "epochs": 1}, seed=seed)
        manager.submit(spec)
        print(f"\rfilled {seed + 1}/{count}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)


def peak_kb(pid: int) -> int:
    """A live process's peak resident memory so far (VmHWM, kB)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1])


def peak_memory_mb() -> float:
    """Start the app, visit every page in chromium, return the server's peak RSS (MB)."""
    from playwright.sync_api import sync_playwright

    port = 8611
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "Home.py",
                               "--server.port", str(port), "--server.headless", "true"],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(8)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=settings.chromium_path(),
                args=["--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}")
            page.wait_for_selector("h1", timeout=60000)
            links = page.locator('[data-testid="stSidebarNav"] a')
            for i in range(links.count()):
                links.nth(i).click()
                page.wait_for_selector("h1", timeout=60000)
                page.wait_for_timeout(4000)
            browser.close()
        return peak_kb(server.pid) / 1024
    finally:
        server.terminate()
        server.wait(20)


def shipped_sizes(folder: Path) -> None:
    """Size of a shipped folder, per algorithm (from its run folders) and in all."""
    from engine import shipped

    sizes: dict[str, int] = {}
    for body in shipped.manifests(folder):
        run = folder / "artifacts" / body["folder"]
        sizes[body["algorithm"]] = sizes.get(body["algorithm"], 0) + sum(
            p.stat().st_size for p in run.iterdir())
    nets = folder / shipped.FEATURE_NETS
    sizes["feature_nets"] = sum(p.stat().st_size for p in nets.glob("*")) if nets.is_dir() else 0
    for key, size in sorted(sizes.items()):
        print(f"shipped {key:12s} {size / 1e6:8.2f} MB")
    print(f"shipped folder {folder}: {shipped.folder_bytes(folder) / 1e6:.1f} MB in all")


def worker_peak_mb(which: str) -> float:
    """Peak RSS (MB) of the workers, summed, while they train ALG/VARIANT[,ALG/VARIANT...]
    at the standard preset, all at once (one worker process each, as the app's jobs)."""
    from engine.jobs import ProcessExecutor
    from engine.store import Store

    specs = []
    for item in which.split(","):
        algorithm, _, variant = item.strip().partition("/")
        specs.append(registry.build_spec(algorithm, variant, "standard"))
    store = Store(tempfile.mkdtemp(prefix="top10-bench-worker-"), mirrors=[])
    ids = [registry.run_id(spec) for spec in specs]
    for run_id, spec in zip(ids, specs):
        store.enqueue(run_id, spec)
    workers = ProcessExecutor(store, jobs=len(specs))
    workers.wake()
    peaks: dict[int, int] = {}  # pid -> its peak so far (VmHWM only grows)
    try:
        while any(store.get(i)["status"] in LIVE for i in ids) and workers.alive():
            for process in workers.processes:
                try:
                    peaks[process.pid] = peak_kb(process.pid)
                except (OSError, StopIteration):  # the worker is exiting
                    pass
            time.sleep(0.5)
        for run_id in ids:
            print(f"worker run {run_id}: {store.get(run_id)['status']}", flush=True)
    finally:
        workers.stop()
    return sum(peaks.values()) / 1024


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine bench app")
    parser.add_argument("--fill-runs", type=int, default=0)
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--preset", default="standard", choices=registry.PRESETS,
                        help="the preset each algorithm page shows (train it first)")
    parser.add_argument("--shipped", nargs="?", const=str(settings.REPO_RESULTS), default=None,
                        metavar="DIR", help="render from this shipped folder behind an empty "
                                            "store (default results/)")
    parser.add_argument("--worker-memory", metavar="ALG/VARIANT[,...]", default=None,
                        help="peak RSS of the workers (summed) while they train these "
                             "variants' standard runs at once")
    args = parser.parse_args(argv)
    if args.shipped:
        shipped_sizes(Path(args.shipped))
        settings.override({"TOP10_STORE": tempfile.mkdtemp(prefix="top10-bench-fresh-"),
                           "TOP10_STORE_MIRROR": str(Path(args.shipped).resolve())})
    print(f"store: {settings.store_dir()}")
    if args.fill_runs:
        scratch = Path(tempfile.mkdtemp(prefix="top10-bench-store-"))
        shutil.copytree(settings.store_dir(), scratch, dirs_exist_ok=True)
        settings.override({"TOP10_STORE": str(scratch)})
        fill_runs(args.fill_runs)
        print(f"store copy with {args.fill_runs} extra runs: {scratch}")
    from engine.store import Store

    print(f"stored runs: {len(Store(settings.store_dir()).list_runs())}")
    print(f"{'page':14s} {'render s (median of 3, warm)':>30s}")
    for path in page_files():
        print(f"{path.stem:14s} {render_seconds(path, args.preset):30.3f}", flush=True)
    if args.memory:
        print(f"peak RSS of the app process over all pages: {peak_memory_mb():.0f} MB")
    if args.worker_memory:
        print(f"peak RSS of the worker processes ({args.worker_memory}, at once): "
              f"{worker_peak_mb(args.worker_memory):.0f} MB")
    if args.shipped:
        own = Store(settings.store_dir(), mirrors=[]).list_runs()
        print(f"runs the empty store gained while rendering: {len(own)}")
    return 0
