"""Export finished runs to the tools people already use: TensorBoard event files and an
MLflow file store (issue 28 part 2). Both libraries are optional extras
(requirements-export.txt); without one, the command says which pip line to run.

    python -m engine export tensorboard DIR [--algorithm K] [--preset P]
    python -m engine export mlflow DIR [--algorithm K] [--preset P]

What is exported is what `python -m engine runs` lists as done: the store's own finished
runs and the shipped ones it serves from its mirrors (results/), each with the history the
pages draw (store.history: (step, seconds since the run started, metric, value) rows).
Nothing is computed here: every scalar, setting and picture comes from the stored run.

The writers (write_tensorboard, write_mlflow) take a run record (a store row), its history,
its pictures and artifact files, and touch nothing else: no store, no Streamlit.
"""
from __future__ import annotations

import importlib
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from engine import registry, settings
from engine.core import ConfigError

PIP = "pip install -r requirements-export.txt"
TOOLS = {"tensorboard": ("TensorBoard", "tensorboard"), "mlflow": ("MLflow", "mlflow")}
# Picture artifacts drawn as grids, per algorithm: each a uint8 tensor (N, 28, 28) written
# by engine/algorithms/gan.py and diffusion.py, and how many images go on a row.
PICTURES = {"gan": {"samples": 8, "interpolation": 10},
            "diffusion": {"samples": 8, "forward": 11, "reverse": 11}}
# GAN only: `snapshots` (S, 16, 28, 28), the same 16 noise vectors at the end of each epoch,
# with `snapshot_epochs` (S epoch numbers): one 4x4 grid per epoch, stepped by epoch.
SNAPSHOTS = {"gan": ("snapshots", "snapshot_epochs")}
GAP = 2  # pixels of grey between the images of a grid


def need(tool: str) -> ModuleType:
    """The tool's library, or a one-line ConfigError (exit 2) naming the pip line."""
    title, module = TOOLS[tool]
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError("error.export_missing", tool=title, package=module, pip=PIP) from None


# ---- what a run is called and what it carries ----------------------------------------------
def run_name(run: dict) -> str:
    """algorithm-variant-preset-<12 hex of the run id>: readable, and unique per run."""
    digest = run["id"].rsplit("-", 1)[1]
    return f"{run['algorithm']}-{run['variant']}-{run['preset'] or 'custom'}-{digest}"


def settings_of(run: dict) -> dict[str, Any]:
    """The run's settings (spec.config: str, int, float or bool values) plus what names the
    run beside them: variant, seed and preset."""
    spec = run["spec"]
    return {**spec["config"], "variant": spec["variant"], "seed": spec["seed"],
            "preset": spec.get("preset") or "custom"}


def provenance_of(run: dict) -> dict[str, str]:
    """Where the run comes from, as flat text: the store row's env (commit, cpu, threads,
    torch, ... recorded when it trained), a shipped run's provenance (commit, trained,
    command), and the command that trains it again. Empty values are left out."""
    from engine.shipped import command_of

    tags = {"top10.run_id": run["id"], "top10.algorithm": run["algorithm"],
            "top10.variant": run["variant"], "top10.preset": run["preset"] or "custom",
            "top10.seed": str(run["seed"]), "top10.finished": repr(run["finished"]),
            "top10.train_seconds": repr(run["train_seconds"]),
            "top10.trainable_params": str(run["params"]),
            "top10.command": command_of(run)}
    for key, value in (run.get("env") or {}).items():
        if value is not None:
            tags[f"top10.env.{key}"] = str(value)
    for key, value in (run.get("shipped") or {}).items():
        if value is not None:
            tags[f"top10.shipped.{key}"] = str(value)
    return tags


def start_time(run: dict) -> float:
    """Seconds since the epoch when training started (history seconds count from there)."""
    return float(run.get("started") or run.get("created") or run.get("finished") or 0.0)


def grid(images: np.ndarray, columns: int) -> np.ndarray:
    """(N, H, W) uint8 images -> one (rows*(H+GAP)+GAP, columns*(W+GAP)+GAP) uint8 image,
    row by row, on grey so that black MNIST backgrounds stay apart."""
    n, h, w = images.shape
    rows = -(-n // columns)
    out = np.full((rows * (h + GAP) + GAP, columns * (w + GAP) + GAP), 128, np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        top, left = GAP + r * (h + GAP), GAP + c * (w + GAP)
        out[top:top + h, left:left + w] = image
    return out


def pictures_of(run: dict, artifacts: dict[str, Any],
                last: int) -> list[tuple[str, int, np.ndarray]]:
    """(tag, step, (H, W) uint8 grid) for the run's picture artifacts (GAN and diffusion;
    none for the other cards). The grids stand at the run's last history step (`last`: they
    were drawn at the end), a GAN snapshot at its epoch."""
    out = []
    for name, columns in PICTURES.get(run["algorithm"], {}).items():
        if name in artifacts:
            out.append((name, last, grid(np.asarray(artifacts[name], dtype=np.uint8), columns)))
    if run["algorithm"] in SNAPSHOTS:
        name, epochs = SNAPSHOTS[run["algorithm"]]
        if name in artifacts and epochs in artifacts:
            for epoch, images in zip(artifacts[epochs], artifacts[name], strict=True):
                out.append((name, int(epoch), grid(np.asarray(images, dtype=np.uint8), 4)))
    return out


def _last_step(history: list[tuple]) -> int:
    return max((row[0] for row in history), default=0)


# ---- TensorBoard ---------------------------------------------------------------------------
def write_tensorboard(run: dict, history: list[tuple], pictures: list, folder: Path) -> None:
    """One TensorBoard run in folder: a scalar per history row (tag = metric key, its step,
    wall time = start + its seconds), the final metrics as `final/<key>` at the last step,
    the settings as hparams (with the final metrics as the hparams table's columns), the
    provenance as text, and the pictures as images."""
    from torch.utils.tensorboard import SummaryWriter
    from torch.utils.tensorboard.summary import hparams

    start, last = start_time(run), _last_step(history)
    ended = float(run.get("finished") or start)
    writer = SummaryWriter(log_dir=str(folder), max_queue=1000, flush_secs=3600)
    try:
        for step, seconds, key, value in history:
            writer.add_scalar(key, value, step, walltime=start + seconds)
        finals = {f"final/{key}": value for key, value in sorted(run["metrics"].items())}
        for key, value in finals.items():
            writer.add_scalar(key, value, last, walltime=ended)
        for summary in hparams(settings_of(run), finals):  # experiment, session start, end
            writer.file_writer.add_summary(summary, walltime=start)
        lines = [f"| {k} | {v} |" for k, v in sorted(provenance_of(run).items())]
        writer.add_text("provenance", "\n".join(["| tag | value |", "|---|---|", *lines]),
                        last, walltime=ended)
        for tag, step, image in pictures:
            writer.add_image(tag, image, step, walltime=ended, dataformats="HW")
    finally:
        writer.close()


def export_tensorboard(runs: list[tuple[dict, list, list, list[Path]]], target: Path) -> list[str]:
    """Write each (run, history, pictures, files) into target/<run_name>, replacing an
    earlier export of the same run (written beside it first, then swapped in). One line
    per run."""
    lines = []
    target.mkdir(parents=True, exist_ok=True)
    for run, history, pictures, _files in runs:
        final = target / run_name(run)
        partial = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=target))
        write_tensorboard(run, history, pictures, partial)
        if final.exists():
            shutil.rmtree(final)
        partial.rename(final)
        lines.append(f"{final.name}: {len(history)} scalars, {len(pictures)} images")
    return lines


# ---- MLflow --------------------------------------------------------------------------------
BATCH = 1000  # MLflow's log_batch takes at most 1000 metrics (and 100 params or tags) a call


def write_mlflow(client, experiment_id: str, run: dict, history: list[tuple], pictures: list,
                 files: list[Path]) -> str:
    """One MLflow run in experiment_id: params = the settings (as text, as MLflow keeps
    them), a metric per history row (its step, timestamp = start + its seconds, in ms), the
    final metrics as `final/<key>`, the provenance as tags, the artifact files under
    `run/` and the pictures as PNG under `images/`. Returns the MLflow run id."""
    from mlflow.entities import Metric, Param, RunTag
    from PIL import Image

    start = start_time(run)
    ended = float(run.get("finished") or start)
    made = client.create_run(experiment_id, start_time=int(start * 1000), run_name=run_name(run))
    mid = made.info.run_id
    params = [Param(k, str(v)) for k, v in sorted(settings_of(run).items())]
    tags = [RunTag(k, v) for k, v in sorted(provenance_of(run).items())]
    commit = (run.get("env") or {}).get("commit") or (run.get("shipped") or {}).get("commit")
    if commit:  # MLflow's own field takes the bare hash; the raw value stays in top10.env.commit
        tags.append(RunTag("mlflow.source.git.commit", str(commit).split("+")[0]))
    metrics = [Metric(key, float(value), int((start + seconds) * 1000), int(step))
               for step, seconds, key, value in history]
    metrics += [Metric(f"final/{key}", float(value), int(ended * 1000), _last_step(history))
                for key, value in sorted(run["metrics"].items())]
    for i in range(0, len(params), 100):
        client.log_batch(mid, params=params[i:i + 100])
    for i in range(0, len(tags), 100):
        client.log_batch(mid, tags=tags[i:i + 100])
    for i in range(0, len(metrics), BATCH):
        client.log_batch(mid, metrics=metrics[i:i + BATCH])
    for path in files:
        client.log_artifact(mid, str(path), artifact_path="run")
    with tempfile.TemporaryDirectory(prefix="top10-mlflow-") as scratch:
        for tag, step, image in pictures:
            Image.fromarray(image).save(Path(scratch) / f"{tag}_step{step}.png")
        if pictures:
            client.log_artifacts(mid, scratch, artifact_path="images")
    client.set_terminated(mid, "FINISHED", end_time=int(ended * 1000))
    return mid


def export_mlflow(runs: list[tuple[dict, list, list, list[Path]]], target: Path) -> list[str]:
    """Write each run into the MLflow file store at target, one experiment per algorithm
    (`top10/<algorithm>`). A run exported before is left alone when unchanged (same
    top10.finished), else the old copy is deleted (MLflow's soft delete) and written anew."""
    # MLflow 3 keeps the file store in "maintenance mode": it refuses to open one unless
    # this is set (and so does `mlflow ui` on it). A file store is what was asked for: a
    # folder that needs no database, copied or zipped as is.
    settings.allow_mlflow_file_store()
    from mlflow.tracking import MlflowClient

    target.mkdir(parents=True, exist_ok=True)
    client = MlflowClient(tracking_uri=str(target.resolve()))
    lines = []
    for run, history, pictures, files in runs:
        name = f"top10/{run['algorithm']}"
        experiment = client.get_experiment_by_name(name)
        experiment_id = experiment.experiment_id if experiment else client.create_experiment(name)
        earlier = client.search_runs([experiment_id],
                                     filter_string=f"tags.`top10.run_id` = '{run['id']}'")
        if any(r.data.tags.get("top10.finished") == repr(run["finished"]) for r in earlier):
            lines.append(f"{name}/{run_name(run)}: unchanged since the last export")
            continue
        for old in earlier:
            client.delete_run(old.info.run_id)
        mid = write_mlflow(client, experiment_id, run, history, pictures, files)
        lines.append(f"{name}/{run_name(run)}: {len(history)} metric points, {len(files)} "
                     f"artifact files, {len(pictures)} images (mlflow run {mid})")
    return lines


# ---- from the store -----------------------------------------------------------------------
def gather(store, algorithms: list[str] | None, preset: str | None):
    """(run, history, pictures, artifact files) of every finished run `runs` lists, of the
    algorithms (default all) at preset (default any), oldest first. A picture artifact
    that fails its checksum is left out with a warning on stderr; the rest still goes."""
    from engine.run_folder import MANIFEST
    from engine.store import CorruptArtifact

    out = []
    for run in reversed(store.list_runs(status="done")):
        if (algorithms and run["algorithm"] not in algorithms) or \
                (preset and run["preset"] != preset):
            continue
        names = [n for n in (*PICTURES.get(run["algorithm"], {}),
                             *SNAPSHOTS.get(run["algorithm"], ())) if n in run["artifacts"]]
        try:
            artifacts = store.load_artifacts(run["id"], names) if names else {}
        except CorruptArtifact as error:
            print(f"warning: {error}; exported without its pictures", file=sys.stderr)
            artifacts = {}
        folder = store.folder(run["id"])
        files = [folder / f"{n}.pt" for n in sorted(run["artifacts"])]
        files = [p for p in (*files, folder / MANIFEST) if p.is_file()]
        history = store.history(run["id"])
        out.append((run, history, pictures_of(run, artifacts, _last_step(history)), files))
    return out


def command(args, store) -> int:
    """`python -m engine export {tensorboard,mlflow} DIR`: exit 0, or 2 with one line when
    the tool's library is missing or an algorithm is unknown."""
    library = need(args.tool)  # before anything is read or written
    # what a DIR that cannot be written (or is not an MLflow store) raises: one line, exit 1
    failures = (OSError, *((library.exceptions.MlflowException,) if args.tool == "mlflow"
                           else ()))
    for key in args.algorithm or []:
        registry.card(key)  # an unknown one is a one-line ConfigError
    target = Path(args.folder)
    runs = gather(store, args.algorithm, args.preset)
    write = export_tensorboard if args.tool == "tensorboard" else export_mlflow
    try:
        for line in write(runs, target):
            print(line, flush=True)
    except failures as error:
        print(f"error: {target}: {(str(error) or repr(error)).splitlines()[0]}", file=sys.stderr)
        return 1
    opener = (f"tensorboard --logdir {target}" if args.tool == "tensorboard"
              else f"mlflow ui --backend-store-uri {target.resolve()}")
    print(f"{target}: {len(runs)} finished run(s) exported or up to date; open with `{opener}`")
    return 0
