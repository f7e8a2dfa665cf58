"""`python -m engine export tensorboard|mlflow DIR` (issue 28 part 2): what is written is read
back with each library's own reader (TensorBoard's EventAccumulator, MLflow's MlflowClient)
and must equal the stored run: every history point with its step, the settings, the final
metrics, the artifact files byte for byte, the GAN sample grids pixel for pixel. Without the
library the command is one line naming the pip line, exit 2.

The readers need `pip install -r requirements-export.txt`; the tests that use them are
skipped without it (the missing-library test runs either way). The DNN tests train one tiny
run (slow); the GAN tests read the shipped runs in results/ (no training)."""
from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.cli import main

ROOT = Path(__file__).resolve().parents[1]
PIP = "pip install -r requirements-export.txt"
needs_tensorboard = pytest.mark.skipif(importlib.util.find_spec("tensorboard") is None,
                                       reason=f"tensorboard is not installed ({PIP})")
needs_mlflow = pytest.mark.skipif(importlib.util.find_spec("mlflow") is None,
                                  reason=f"mlflow (or mlflow-skinny) is not installed ({PIP})")
# A DNN run that trains in a few seconds: logistic regression, 2,000 images, one epoch.
TINY = ["run", "dnn", "--variant", "logreg", "--preset", "quick", "--set", "train_limit=2000",
        "--set", "epochs=1", "--json"]


def _code(args: list[str]) -> int:
    try:
        return main(args)
    except SystemExit as exit_:  # argparse's own errors
        return exit_.code


@pytest.fixture(scope="module")
def trained(tmp_path_factory, shared_data_dir):
    """One tiny DNN run in a store of its own; yields (store, its row). TOP10_STORE stays
    set for the module's tests, no shipped folder behind it."""
    from engine.store import Store

    folder = tmp_path_factory.mktemp("export-store")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TOP10_STORE", str(folder))
        patch.setenv("TOP10_DATA_DIR", str(shared_data_dir))
        patch.setenv("TOP10_STORE_MIRROR", "")
        assert main(TINY) == 0
        store = Store(folder)
        [row] = store.list_runs("dnn", "done")
        yield store, row


@pytest.fixture
def shipped(store_dir, monkeypatch):
    """An empty store with the repository's results/ behind it (read only): its shipped
    standard GAN runs, with their history and artifacts, as `python -m engine runs` lists."""
    from engine.store import Store

    monkeypatch.setenv("TOP10_STORE_MIRROR", str(ROOT / "results"))
    store = Store(store_dir)
    runs = [r for r in store.list_runs("gan", "done") if r["preset"] == "standard"]
    assert runs, "results/ ships standard GAN runs"
    return store, runs


def expected_settings(row: dict) -> dict:
    """What the spec says the exported settings are: its config, variant, seed and preset."""
    spec = row["spec"]
    return {**spec["config"], "variant": spec["variant"], "seed": spec["seed"],
            "preset": spec["preset"]}


def grid_of(images: np.ndarray, columns: int) -> np.ndarray:
    """The test's own tiling (2 grey pixels around each 28x28 image), to compare pixels."""
    rows = -(-len(images) // columns)
    out = np.full((rows * 30 + 2, columns * 30 + 2), 128, np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        out[2 + 30 * r:30 * r + 30, 2 + 30 * c:30 * c + 30] = image
    return out


def png(data: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("L"))


def accumulator(folder: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0,
                                                           "tensors": 0})
    events.Reload()
    return events


def hparams_of(events) -> dict:
    """The hparams TensorBoard's HParams dashboard reads: name -> python value."""
    from tensorboard.plugins.hparams import metadata

    content = events.PluginTagToContent(metadata.PLUGIN_NAME)[metadata.SESSION_START_INFO_TAG]
    info = metadata.parse_session_start_info_plugin_data(content)
    return {name: getattr(value, value.WhichOneof("kind")) for name, value in info.hparams.items()}


# ---- without the library ------------------------------------------------------------------
@pytest.mark.parametrize("tool, title", [("tensorboard", "TensorBoard"), ("mlflow", "MLflow")])
def test_missing_library_is_one_line_naming_the_pip_line(tool, title, store_dir, tmp_path,
                                                         monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, tool, None)  # `import tool` raises ImportError now
    target = tmp_path / "out"
    assert _code(["export", tool, str(target)]) == 2
    captured = capsys.readouterr()
    assert captured.err == (f"error: the {title} export needs the {tool} package, which is not "
                            f"installed: {PIP}\n")
    assert captured.out == "" and not target.exists()
    monkeypatch.setenv("TOP10_LANG", "zh")
    assert _code(["export", tool, str(target)]) == 2
    assert capsys.readouterr().err == f"error: 导出到 {title} 需要 {tool} 包，但它还没有安装：{PIP}\n"


@needs_tensorboard
def test_unknown_algorithm_is_one_line(store_dir, tmp_path, capsys):
    assert _code(["export", "tensorboard", str(tmp_path / "tb"), "--algorithm", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown algorithm 'nope'") and err.count("\n") == 1


# ---- TensorBoard --------------------------------------------------------------------------
@pytest.mark.slow
@needs_tensorboard
def test_tensorboard_holds_the_stored_history_and_settings(trained, tmp_path, capsys):
    store, row = trained
    history = store.history(row["id"])
    assert len({key for _, _, key, _ in history}) >= 3 and len(history) >= 10  # a real curve
    target = tmp_path / "tb"
    for _ in range(2):  # the second export replaces the first: no point is doubled
        assert main(["export", "tensorboard", str(target), "--algorithm", "dnn"]) == 0
    out = capsys.readouterr().out
    # --set makes the preset `custom`
    name = f"dnn-logreg-{row['preset']}-{row['id'].rsplit('-', 1)[1]}"
    assert sorted(p.name for p in target.iterdir()) == [name]
    assert f"open with `tensorboard --logdir {target}`" in out
    events = accumulator(target / name)
    for key in {key for _, _, key, _ in history}:
        stored = [(step, seconds, value) for step, seconds, k, value in history if k == key]
        read = events.Scalars(key)
        # event files keep float32: the stored value rounded to float32, exactly
        assert [(e.step, e.value) for e in read] == [(s, float(np.float32(v))) for s, _, v in stored]
        assert [e.wall_time for e in read] == pytest.approx(
            [row["started"] + seconds for _, seconds, _ in stored], abs=1e-3)
    for key, value in row["metrics"].items():
        [final] = events.Scalars(f"final/{key}")
        assert final.value == float(np.float32(value))
    assert hparams_of(events) == expected_settings(row)
    assert events.Tags()["images"] == []  # a DNN run has no pictures


@needs_tensorboard
def test_tensorboard_shows_the_shipped_gan_samples(shipped, tmp_path):
    store, runs = shipped
    target = tmp_path / "tb"
    assert main(["export", "tensorboard", str(target), "--algorithm", "gan",
                 "--preset", "standard"]) == 0
    names = {f"gan-{r['variant']}-standard-{r['id'].rsplit('-', 1)[1]}": r for r in runs}
    assert sorted(p.name for p in target.iterdir()) == sorted(names)
    for name, row in names.items():
        artifacts = store.load_artifacts(row["id"])
        history = store.history(row["id"])
        events = accumulator(target / name)
        [samples] = events.Images("samples")
        assert samples.step == max(step for step, *_ in history)
        assert np.array_equal(png(samples.encoded_image_string),
                              grid_of(artifacts["samples"].numpy(), 8))
        snapshots = events.Images("snapshots")  # the fixed noise at the end of each epoch
        assert [e.step for e in snapshots] == list(artifacts["snapshot_epochs"])
        for event, images in zip(snapshots, artifacts["snapshots"]):
            assert np.array_equal(png(event.encoded_image_string), grid_of(images.numpy(), 4))
        fid = [(s, float(np.float32(v))) for s, _, k, v in history if k == "eval/fid"]
        assert [(e.step, e.value) for e in events.Scalars("eval/fid")] == fid
        assert hparams_of(events) == expected_settings(row)


@needs_tensorboard
def test_algorithm_and_preset_choose_the_runs(shipped, tmp_path):
    store, _ = shipped
    full = [r for r in store.list_runs("dnn", "done") if r["preset"] == "full"]
    assert full and len(full) < len(store.list_runs(status="done"))
    target = tmp_path / "tb"
    assert main(["export", "tensorboard", str(target), "--algorithm", "dnn", "--preset",
                 "full"]) == 0
    assert sorted(p.name for p in target.iterdir()) == sorted(
        f"dnn-{r['variant']}-full-{r['id'].rsplit('-', 1)[1]}" for r in full)


# ---- MLflow -------------------------------------------------------------------------------
def mlflow_runs(target: Path, algorithm: str) -> tuple:
    from mlflow.tracking import MlflowClient

    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3's file store opt-in
    client = MlflowClient(tracking_uri=str(target))
    experiment = client.get_experiment_by_name(f"top10/{algorithm}")
    return client, client.search_runs([experiment.experiment_id])


@pytest.mark.slow
@needs_mlflow
def test_mlflow_holds_the_stored_history_params_artifacts_and_provenance(trained, tmp_path):
    store, row = trained
    history = store.history(row["id"])
    target = tmp_path / "mlruns"
    for _ in range(2):  # the second export finds the run unchanged and writes nothing
        assert main(["export", "mlflow", str(target), "--algorithm", "dnn"]) == 0
    client, found = mlflow_runs(target, "dnn")
    [run] = found
    assert run.info.status == "FINISHED"
    assert run.info.run_name == f"dnn-logreg-{row['preset']}-{row['id'].rsplit('-', 1)[1]}"
    assert run.data.params == {k: str(v) for k, v in expected_settings(row).items()}
    for key in {key for _, _, key, _ in history}:
        stored = [(step, value, int((row["started"] + seconds) * 1000))
                  for step, seconds, k, value in history if k == key]
        read = client.get_metric_history(run.info.run_id, key)
        assert [(m.step, m.value, m.timestamp) for m in read] == stored
    for key, value in row["metrics"].items():
        assert run.data.metrics[f"final/{key}"] == value
    tags = run.data.tags
    assert tags["top10.run_id"] == row["id"]
    assert tags["top10.env.commit"] == row["env"]["commit"]
    assert tags["top10.env.threads"] == str(row["env"]["threads"])
    assert tags["top10.command"].startswith("python -m engine run dnn --variant logreg")
    # the artifact files, byte for byte what the store holds (its checksums)
    local = Path(client.download_artifacts(run.info.run_id, "run", str(tmp_path / "down")))
    assert sorted(p.name for p in local.iterdir()) == sorted(
        [f"{n}.pt" for n in row["artifacts"]] + ["manifest.json"])
    for name, checksum in row["artifacts"].items():
        assert hashlib.sha256((local / f"{name}.pt").read_bytes()).hexdigest() == checksum


@needs_mlflow
def test_mlflow_keeps_the_shipped_gan_samples_and_provenance(shipped, tmp_path):
    store, runs = shipped
    target = tmp_path / "mlruns"
    assert main(["export", "mlflow", str(target), "--algorithm", "gan", "--preset",
                 "standard"]) == 0
    client, found = mlflow_runs(target, "gan")
    by_id = {r.data.tags["top10.run_id"]: r for r in found}
    assert sorted(by_id) == sorted(r["id"] for r in runs)
    for row in runs:
        run = by_id[row["id"]]
        assert run.data.tags["top10.shipped.command"] == row["shipped"]["command"]
        assert run.data.tags["top10.shipped.commit"] == row["shipped"]["commit"]
        last = max(step for step, *_ in store.history(row["id"]))
        local = Path(client.download_artifacts(run.info.run_id, f"images/samples_step{last}.png",
                                               str(tmp_path / row["id"])))
        samples = store.load_artifacts(row["id"], ["samples"])["samples"].numpy()
        assert np.array_equal(png(local.read_bytes()), grid_of(samples, 8))
