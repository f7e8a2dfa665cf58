"""Shipped results: finished runs exported into a folder laid out like a store, minus the
SQLite index (git-friendly), read back read-only behind the writable store.

A shipped folder (the repository's results/ by default, see settings.store_mirrors):

    results/index.json                      what is in it (for people; the reader ignores it)
    results/artifacts/<run id>@<hex>/       one folder per run: manifest.json (the row, its
                                            history, its provenance) + the .pt artifacts
    results/feature_nets/*.pt               the GAN/diffusion yardstick classifiers

The reader rebuilds its rows from the manifests. A run whose id no longer matches its spec
under the current card version is stale: it is not served, and `store export --check` names it.
"""
from __future__ import annotations

import datetime
import functools
import json
import logging
import math
import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

from engine.core import ConfigError, RunSpec
from engine.run_folder import MANIFEST, artifact_problems, check_run_id

log = logging.getLogger(__name__)
INDEX = "index.json"
FEATURE_NETS = "feature_nets"
BUDGET_BYTES = 80e6  # results/ in git: standard and full runs of every card together
# Artifacts left out when exporting, per algorithm: what no page (pages/, engine.inspect,
# engine.ui, engine.plots) reads. They stay in the training store.
DROP: dict[str, tuple[str, ...]] = {
    "gan": ("histograms",), "diffusion": ("histograms",),  # pages show the seed-0 histogram
    "lstm": ("sample",), "transformer": ("sample",),  # pages generate text from the weights
    "word2vec": ("counts",),
}
# Artifacts cut to their first N entries when exporting: the pages show at most 32 samples,
# the trained store keeps every sample the yardstick scored (the metrics come from all).
TRIM: dict[str, dict[str, int]] = {"gan": {"samples": 32}, "diffusion": {"samples": 32}}


def current_id(spec: dict) -> str | None:
    """The run id this spec has under the current card versions (None: not a valid spec)."""
    from engine import registry

    try:
        return registry.run_id(RunSpec(**spec))
    except (ConfigError, TypeError, ValueError, KeyError):  # a card or field that is gone
        return None


class Shipped:
    """One read-only shipped folder: rows (as Store.get returns them, plus `shipped`: the
    provenance) of its current runs, their history and their folders."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.rows: dict[str, dict[str, Any]] = {}
        self.histories: dict[str, list[tuple]] = {}
        self.stale: list[str] = []  # one line per shipped run that is not served, and why
        for body in manifests(self.root):
            run_id = body["run_id"]
            if current_id(body["spec"]) != run_id:
                self.stale.append(f"{run_id} ({body['folder']}): stale, its card version or "
                                  "settings changed since it was trained")
                continue
            self.rows[run_id] = _row_of(body)
            self.histories[run_id] = [tuple(h) for h in body.get("history", [])]

    def folder(self, run_id: str) -> Path:
        return self.root / "artifacts" / self.rows[run_id]["folder"]


MAX_MANIFEST_BYTES = 4_000_000  # the largest shipped today is 0.3 MB (history of a long run)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def schema_problem(body: Any) -> str | None:
    """What makes a manifest unfit to serve (None: fit). Checks the fields the pages and the
    CLI read, with their types: a row that passed is never the cause of a traceback."""
    if not isinstance(body, dict):
        return "not a JSON object"
    for key, kind in (("run_id", str), ("algorithm", str), ("variant", str), ("preset", str),
                      ("seed", int), ("spec", dict), ("metrics", dict), ("artifacts", dict)):
        if not isinstance(body.get(key), kind) or isinstance(body.get(key), bool):
            return f"{key} missing or not a {kind.__name__}"
    if not isinstance(body["spec"].get("config"), dict):
        return "spec.config missing or not an object"
    if not all(isinstance(k, str) and _number(v) for k, v in body["metrics"].items()):
        return "metrics must map names to finite numbers"
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in body["artifacts"].items()):
        return "artifacts must map names to checksums"
    if not _number(body.get("train_seconds")):
        return "train_seconds missing or not a number"
    if body.get("params") is not None and not isinstance(body["params"], int):
        return "params not an integer"
    history = body.get("history", [])
    if not isinstance(history, list) or not all(
            isinstance(h, list) and len(h) == 4 and isinstance(h[0], int) and _number(h[1])
            and isinstance(h[2], str) and _number(h[3]) for h in history):
        return "history must be rows of [step, seconds, metric, value]"
    return None


def _read_manifest(folder: Path) -> tuple[dict | None, str | None]:
    """(body, None) for a fit manifest; (None, why) for one that is not; (None, None) when
    the folder holds none (an export in progress)."""
    path = folder / MANIFEST
    try:
        size = path.stat().st_size
        if size > MAX_MANIFEST_BYTES:  # read nothing: every process would hold it in memory
            return None, f"manifest of {size / 1e6:.0f} MB, over {MAX_MANIFEST_BYTES / 1e6:.0f} MB"
        body = json.loads(path.read_text())
    except FileNotFoundError:
        return None, None
    except (OSError, ValueError) as error:
        return None, f"unreadable manifest ({type(error).__name__})"
    why = schema_problem(body)
    if why is None:
        try:
            check_run_id(body["run_id"])
        except ValueError:
            why = "run_id is not a run id"
    return (None, why) if why else (body, None)


def manifests(root: Path, problems: list[str] | None = None) -> list[dict]:
    """Every fit done manifest under root/artifacts. An unfit one is skipped with one
    warning, and one line in `problems` when the caller passes a list."""
    base = root / "artifacts"
    if not base.is_dir():
        return []
    found = []
    for folder in sorted(base.iterdir()):
        body, why = _read_manifest(folder)
        if why:
            line = f"{folder.name}: skipped, {why}"
            log.warning("shipped run %s", line)
            if problems is not None:
                problems.append(line)
        elif body is not None and body.get("status") == "done":
            found.append({**body, "folder": folder.name})
    return found


def longest_first(specs: list[RunSpec], root: Path) -> list[RunSpec]:
    """specs ordered by how long the same card, variant and preset trained when shipped in
    root (current or stale; unknown last): with two jobs at once, the longest queued first
    ends the batch soonest, instead of one long run alone at the end."""
    seconds = {(b["algorithm"], b["variant"], b["preset"]): float(b.get("train_seconds") or 0)
               for b in manifests(root)}
    return sorted(specs, key=lambda s: -seconds.get((s.algorithm, s.variant, s.preset), 0.0))


def digest(body: dict) -> str:
    """sha256 of a manifest's content without its own digest: any edit of a metric, the
    history or a checksum changes it (integrity against accidents, not a signature)."""
    import hashlib

    content = {k: v for k, v in body.items() if k not in ("digest", "folder")}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def verify(target: Path, seal: bool = False) -> list[str]:
    """One line per problem that `store export --check` reports besides staleness: unfit
    manifests, artifacts whose bytes no longer match their checksum, manifests edited since
    export (digest mismatch) or exported without a digest. seal=True writes the digest into
    manifests that lack one, once their artifacts check out."""
    problems: list[str] = []
    for body in manifests(Path(target), problems):
        folder = Path(target) / "artifacts" / body["folder"]
        if bad := artifact_problems(folder, body["artifacts"]):
            problems.append(f"{body['folder']}: {'; '.join(bad)} since export; re-export or "
                            "refresh it")
        elif "digest" not in body and seal:
            _write_manifest(folder, body)
        elif "digest" not in body:
            problems.append(f"{body['folder']}: exported without a digest; `store export "
                            f"{target} --check --seal` adds it")
        elif body["digest"] != digest(body):
            problems.append(f"{body['folder']}: manifest edited since export (its metrics, "
                            "history or checksums no longer match its digest)")
    return problems


def _write_manifest(folder: Path, body: dict) -> None:
    content = {k: v for k, v in body.items() if k != "folder"}
    content["digest"] = digest(content)
    (folder / MANIFEST).write_text(json.dumps(content, indent=1, sort_keys=True))


def _row_of(body: dict) -> dict[str, Any]:
    return {"id": body["run_id"], "algorithm": body["algorithm"], "variant": body["variant"],
            "preset": body["preset"], "seed": body["seed"], "spec": body["spec"],
            "status": "done", "created": body.get("created"), "started": body.get("started"),
            "finished": body.get("finished"), "heartbeat": body.get("finished"), "pid": None,
            "host": None, "progress": 1.0, "note": "shipped", "params": body.get("params"),
            "train_seconds": body.get("train_seconds"), "metrics": body["metrics"],
            "error": None, "env": body.get("env", {}), "cancel": 0,
            "artifacts": body["artifacts"], "folder": body["folder"],
            "shipped": body.get("provenance", {})}


@functools.lru_cache(maxsize=16)
def _load(root: str, stamp: tuple) -> Shipped:
    return Shipped(root)


def open_mirrors(roots: list[Path]) -> list[Shipped]:
    """The shipped folders, each read once per change of its artifacts folder."""
    out = []
    for root in roots:
        base = Path(root) / "artifacts"
        try:
            stamp = (base.stat().st_mtime_ns, len(os.listdir(base)))
        except OSError:
            continue
        out.append(_load(str(root), stamp))
    return out


# ---- export -------------------------------------------------------------------------------
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@functools.lru_cache(maxsize=1)
def commit() -> str:
    """The checkout's commit (with +dirty when it has uncommitted changes), or 'unknown'."""
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty.strip() else "")


def command_of(run: dict) -> str:
    """The CLI command that trains this run again (its settings that differ from the preset)."""
    from engine import registry

    spec = run["spec"]
    card = registry.card(spec["algorithm"])
    preset = spec["preset"] if spec["preset"] in card.presets else "standard"
    defaults = card.default_config(preset)
    sets = " ".join(f"--set {k}={v}" for k, v in sorted(spec["config"].items())
                    if defaults.get(k) != v)
    return (f"python -m engine run {spec['algorithm']} --variant {spec['variant']} "
            f"--preset {preset} --seed {spec['seed']}" + (f" {sets}" if sets else ""))


def provenance(run: dict, command: str | None = None) -> dict[str, Any]:
    env = run.get("env") or {}
    return {"commit": env.get("commit") or commit(),
            "trained": datetime.datetime.fromtimestamp(run["finished"] or 0, datetime.UTC)
            .strftime("%Y-%m-%d %H:%M UTC"),
            "device": env.get("device", "unknown"),
            "gpu": env.get("gpu"), "cpu": env.get("cpu") or cpu_model(),
            "threads": env.get("threads"), "torch": env.get("torch"),
            "command": command or command_of(run)}


def export(store, target: Path, preset: str | None = None,
           algorithms: list[str] | None = None) -> dict[str, int]:
    """Copy the store's finished, current runs (at preset, of algorithms) into target, one
    folder per run with its provenance; replace older copies of the same run ids; copy the
    yardstick feature networks. Returns bytes written per algorithm."""
    from engine import settings

    target = Path(target)
    (target / "artifacts").mkdir(parents=True, exist_ok=True)
    old = {b["run_id"]: b["folder"] for b in manifests(target)}
    sizes: dict[str, int] = {}
    for run in store.list_runs(status="done"):
        if run.get("shipped") or (preset and run["preset"] != preset) or \
                (algorithms and run["algorithm"] not in algorithms) or \
                current_id(run["spec"]) != run["id"]:
            continue
        drop = DROP.get(run["algorithm"], ())
        artifacts = {k: v for k, v in run["artifacts"].items() if k not in drop}
        source = store.folder(run["id"])
        into = target / "artifacts" / source.name
        if run["id"] in old and old[run["id"]] != source.name:
            shutil.rmtree(target / "artifacts" / old[run["id"]])
        into.mkdir(exist_ok=True)
        for name in artifacts:
            shutil.copyfile(source / f"{name}.pt", into / f"{name}.pt")
        body = json.loads((source / MANIFEST).read_text())
        trim(into, run["algorithm"], artifacts)
        body.update(artifacts=artifacts, provenance=provenance(run),
                    trimmed=TRIM.get(run["algorithm"], {}))
        _write_manifest(into, body)
        size = sum(p.stat().st_size for p in into.iterdir())
        sizes[run["algorithm"]] = sizes.get(run["algorithm"], 0) + size
    nets = [settings.data_dir() / FEATURE_NETS, *(m / FEATURE_NETS for m in
                                                 settings.data_mirrors())]
    for folder in nets:
        for net in sorted(folder.glob("*.pt")) if folder.is_dir() else []:
            (target / FEATURE_NETS).mkdir(exist_ok=True)
            if not (target / FEATURE_NETS / net.name).exists():
                shutil.copyfile(net, target / FEATURE_NETS / net.name)
    for net in (target / FEATURE_NETS).glob("*.pt") if (target / FEATURE_NETS).is_dir() else []:
        sizes["feature_nets"] = sizes.get("feature_nets", 0) + net.stat().st_size
    write_index(target)
    return sizes


def trim(folder: Path, algorithm: str, artifacts: dict[str, str]) -> None:
    """Cut the algorithm's TRIM artifacts in folder to their first entries, in place, and
    record their new checksums in `artifacts` (name -> sha256)."""
    import hashlib

    import torch

    for name, keep in TRIM.get(algorithm, {}).items():
        if name in artifacts:
            path = folder / f"{name}.pt"
            torch.save(torch.load(path, weights_only=True)[:keep].clone(), path)
            artifacts[name] = hashlib.sha256(path.read_bytes()).hexdigest()


def write_index(target: Path) -> None:
    runs = [{"run_id": b["run_id"], "algorithm": b["algorithm"], "variant": b["variant"],
             "preset": b["preset"], "folder": b["folder"],
             "bytes": sum(p.stat().st_size for p in (target / "artifacts" / b["folder"]).iterdir())}
            for b in manifests(target)]
    partial = target / f".{INDEX}.{os.getpid()}"  # whole or not at all, beside a second refresh
    partial.write_text(json.dumps({"format": 1, "runs": runs}, indent=1))
    os.replace(partial, target / INDEX)


def folder_bytes(target: Path) -> int:
    return sum(p.stat().st_size for p in Path(target).rglob("*") if p.is_file())


def stale(target: Path) -> list[str]:
    """One line per shipped run in target that is no longer current."""
    return Shipped(target).stale


def superseded(target: Path, algorithms: list[str] | None = None) -> list[dict]:
    """Shipped runs (of algorithms, default all) labelled with a preset whose recipe has
    changed since: still valid runs, but no longer what that preset trains, so no page
    finds them as its preset's result. A refresh of the preset replaces them."""
    from engine import registry

    out = []
    for b in manifests(target):
        if algorithms and b["algorithm"] not in algorithms:
            continue
        try:
            spec = registry.build_spec(b["algorithm"], b["variant"], b["preset"],
                                       seed=b["spec"]["seed"])
        except (ConfigError, KeyError):  # custom, or a card, variant or preset that is gone
            continue
        if registry.run_id(spec) != b["run_id"]:
            out.append(b)
    return out


def prune(target: Path, algorithms: list[str] | None = None) -> list[str]:
    """Remove stale and superseded runs' folders (of algorithms, default all) from target (a
    refresh replaces them); their names. A refresh of one card leaves the others alone: a card refreshed
    beside it by a newer checkout would look stale to this process's older code."""
    gone = [b["folder"] for b in manifests(target)
            if (not algorithms or b["algorithm"] in algorithms)
            and current_id(b["spec"]) != b["run_id"]]
    gone += [b["folder"] for b in superseded(target, algorithms) if b["folder"] not in gone]
    for name in gone:
        shutil.rmtree(target / "artifacts" / name)
    return gone
