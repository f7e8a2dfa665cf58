"""Shipped results: export writes run folders with provenance; a fresh store serves them
read-only (same id, row, history), never queues them again, refuses to delete them; a stale
one is not served and `store export --check` names it; the yardstick comes from there too."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine import registry, shipped
from engine.cli import main
from engine.jobs import InlineExecutor, JobManager
from engine.store import Store, StoreReadOnly

ROOT = Path(__file__).resolve().parents[1]
HISTORY = [(1, 0.5, "train/loss", 0.9), (2, 1.0, "train/loss", 0.4)]


@pytest.fixture
def ship(tmp_path, store, stored_run) -> tuple[Path, dict]:
    """A shipped folder holding one finished dnn/mlp quick run (no training: a stored row)."""
    spec = registry.build_spec("dnn", "mlp", "quick")
    run = stored_run("dnn", "mlp", spec.config, {"test/acc": 0.91}, HISTORY,
                     run_id=registry.run_id(spec))
    folder = tmp_path / "ship"
    sizes = shipped.export(store, folder, preset="quick")
    assert set(sizes) - {"feature_nets"} == {"dnn"}  # and the yardstick, when the data folder has it
    return folder, run


def fresh(tmp_path, folder) -> Store:
    return Store(tmp_path / "fresh", mirrors=[folder])


def test_shipped_run_is_served_like_a_stored_one(tmp_path, ship):
    folder, run = ship
    store = fresh(tmp_path, folder)
    row = store.get(run["id"])
    assert row["status"] == "done" and row["metrics"] == {"test/acc": 0.91}
    assert row["shipped"]["command"] == ("python -m engine run dnn --variant mlp --preset quick "
                                         "--seed 0")
    assert row["shipped"]["commit"] and row["shipped"]["cpu"]
    assert [r["id"] for r in store.list_runs("dnn", "done")] == [run["id"]]
    assert store.list_runs("dnn", "queued") == [] and store.list_runs("cnn") == []
    assert store.history(run["id"]) == HISTORY
    assert store.get_many([run["id"], "dnn-x-000000000000"]).keys() == {run["id"]}
    assert store.load_artifacts(run["id"]) == {}

    submission = JobManager(store, InlineExecutor(store)).submit(RunSpec_of(run))
    assert submission.cached and submission.run_id == run["id"]
    assert store.enqueue(run["id"], RunSpec_of(run)) == (run["id"], False)
    assert Store(store.root, mirrors=[]).list_runs() == []  # the store gained no run
    with pytest.raises(StoreReadOnly, match="shipped"):
        store.delete(run["id"])


def RunSpec_of(run):
    from engine.core import RunSpec

    return RunSpec(**run["spec"])


def test_own_finished_run_wins_over_shipped(tmp_path, ship, stored_run):
    folder, run = ship
    store = Store(tmp_path / "own", mirrors=[folder])
    store.enqueue(run["id"], RunSpec_of(run), force=True)  # a Re-run: the visitor's own row
    assert store.get(run["id"])["status"] == "queued"
    assert [r["status"] for r in store.list_runs("dnn")] == ["queued"]


def test_stale_run_is_not_served_and_check_names_it(tmp_path, ship, capsys):
    folder, run = ship
    assert main(["store", "export", str(folder), "--check"]) == 0
    manifest = next(folder.glob("artifacts/*/manifest.json"))
    body = json.loads(manifest.read_text())
    body["spec"]["config"]["epochs"] += 1  # as if the preset (or card version) changed
    manifest.write_text(json.dumps(body))
    assert fresh(tmp_path, folder).get(run["id"]) is None
    capsys.readouterr()
    assert main(["store", "export", str(folder), "--check"]) == 1
    out = capsys.readouterr().out
    assert run["id"] in out and "stale" in out
    assert shipped.prune(folder, ["cnn"]) == []  # a refresh of another card keeps it
    assert shipped.prune(folder) == [manifest.parent.name]
    assert main(["store", "export", str(folder), "--check"]) == 0


def test_a_run_of_an_older_preset_recipe_is_superseded(tmp_path, store, stored_run, capsys):
    """A shipped run whose preset now trains other settings is still a valid run, but no
    page finds it as the preset's result: check names it (exit 1) and a refresh prunes it."""
    from engine.core import RunSpec

    config = {**registry.build_spec("dnn", "mlp", "quick").config}
    config["epochs"] += 1  # what the quick preset trained before its recipe changed
    old = stored_run("dnn", "mlp", config, {"test/acc": 0.9}, HISTORY,
                     run_id=registry.run_id(RunSpec("dnn", "mlp", config, 0, "quick")))
    folder = tmp_path / "ship"
    shipped.export(store, folder, preset="quick")
    assert shipped.stale(folder) == []  # valid under the current card version
    assert [b["run_id"] for b in shipped.superseded(folder)] == [old["id"]]
    capsys.readouterr()
    assert main(["store", "export", str(folder), "--check"]) == 1
    assert "superseded" in capsys.readouterr().out
    assert shipped.prune(folder, ["cnn"]) == []
    assert len(shipped.prune(folder, ["dnn"])) == 1 and shipped.superseded(folder) == []


def test_export_command_reports_sizes(tmp_path, ship, store_dir, capsys):
    folder, run = ship
    assert main(["store", "export", str(tmp_path / "again"), "--algorithm", "dnn"]) == 0
    out = capsys.readouterr().out
    assert "dnn" in out and "MB in all" in out
    index = json.loads((tmp_path / "again" / "index.json").read_text())
    assert [r["run_id"] for r in index["runs"]] == [run["id"]]
    assert main(["store", "export"]) == 2
    assert main(["store", "export", str(folder), "--algorithm", "nope"]) == 2


def test_repository_results_are_current():
    """CI: every run shipped in results/ still matches its card version (else refresh)."""
    assert main(["store", "export", str(ROOT / "results"), "--check"]) == 0


def test_repository_results_fit_the_budget():
    assert shipped.folder_bytes(ROOT / "results") <= shipped.BUDGET_BYTES


def test_yardstick_comes_from_the_shipped_folder(tmp_path, monkeypatch):
    import torch

    from engine.algorithms import yardstick

    path = yardstick.feature_net_path("mnist")
    folder = tmp_path / "ship" / shipped.FEATURE_NETS
    folder.mkdir(parents=True)
    torch.save({"state_dict": yardstick._build_feature_model().state_dict(), "test_acc": 0.97},
               folder / path.name)
    monkeypatch.setenv("TOP10_STORE_MIRROR", str(tmp_path / "ship"))
    monkeypatch.setenv("TOP10_DATA_DIR", str(tmp_path / "empty-data"))
    monkeypatch.setattr(yardstick, "_TRAINED", {})
    monkeypatch.setattr(yardstick, "_train_feature_net",
                        lambda *a, **k: pytest.fail("trained a feature net"))
    assert yardstick.feature_net("mnist").test_acc == pytest.approx(0.97)


@pytest.mark.slow  # trains
def test_refresh_trains_only_what_is_missing(tmp_path, store_dir, capsys):
    folder = tmp_path / "results"
    assert main(["store", "refresh", str(folder), "--preset", "quick", "--algorithm", "dnn"]) == 0
    out = capsys.readouterr().out
    assert out.count(": done") == len(registry.card("dnn").variants)
    served = shipped.Shipped(folder).rows
    assert {r["variant"] for r in served.values()} == set(registry.card("dnn").variants)
    assert all(r["shipped"]["command"].endswith("--preset quick --seed 0")
               for r in served.values())
    assert "state_dict" in next(iter(served.values()))["artifacts"]
    assert main(["store", "refresh", str(folder), "--preset", "quick", "--algorithm", "dnn"]) == 0
    assert capsys.readouterr().out.count("shipped already") == len(registry.card("dnn").variants)
    assert Store(store_dir, mirrors=[]).list_runs() == []  # the writable store is not used


# ---- damaged shipped folders: skipped with one line, named by export --check ------------------
def _manifest(folder: Path) -> Path:
    return next(folder.glob("artifacts/*/manifest.json"))


def _edit(folder: Path, change) -> None:
    path = _manifest(folder)
    body = json.loads(path.read_text())
    change(body)
    path.write_text(json.dumps(body))


@pytest.mark.parametrize("damage", [
    lambda b: b.pop("metrics"),                                      # metrics missing
    lambda b: b.update(history=[1, 2, 3]),                           # history of ints
    lambda b: b.update(metrics="0.91"),                              # metrics a string
    lambda b: b.update(train_seconds=None),                          # null seconds
    lambda b: b["metrics"].update({"test/acc": float("nan")}),      # not a finite number
], ids=["no-metrics", "int-history", "string-metrics", "null-seconds", "nan-metric"])
def test_a_malformed_manifest_is_skipped_with_one_line(tmp_path, ship, damage, capsys, caplog):
    folder, run = ship
    _edit(folder, damage)
    store = fresh(tmp_path, folder)
    assert store.get(run["id"]) is None and store.list_runs("dnn") == []
    assert any("skipped" in m for m in caplog.messages)
    capsys.readouterr()
    assert main(["store", "export", str(folder), "--check"]) == 1
    out = capsys.readouterr().out
    assert "skipped" in out and "Traceback" not in out


def test_a_huge_manifest_is_not_read(tmp_path, ship, monkeypatch):
    folder, run = ship
    monkeypatch.setattr(shipped, "MAX_MANIFEST_BYTES", 100)
    monkeypatch.setattr(shipped.json, "loads", lambda *a, **k: pytest.fail("read it"))
    assert shipped.manifests(folder) == []


def test_check_finds_a_flipped_artifact_byte_and_an_edited_metric(tmp_path, ship, capsys):
    import hashlib

    folder, run = ship
    weights = _manifest(folder).parent / "weights.pt"
    weights.write_bytes(b"\x00" * 64)
    _edit(folder, lambda b: (b["artifacts"].update(weights=hashlib.sha256(weights.read_bytes())
                                                   .hexdigest()), b.pop("digest")))
    assert main(["store", "export", str(folder), "--check"]) == 1  # no digest: unsealed
    assert "--seal" in capsys.readouterr().out
    assert main(["store", "export", str(folder), "--check", "--seal"]) == 0
    assert main(["store", "export", str(folder), "--check"]) == 0
    weights.write_bytes(b"\x01" + b"\x00" * 63)  # one flipped byte
    capsys.readouterr()
    assert main(["store", "export", str(folder), "--check"]) == 1
    assert "checksum mismatch" in capsys.readouterr().out
    weights.write_bytes(b"\x00" * 64)
    _edit(folder, lambda b: b["metrics"].update({"test/acc": 0.99}))  # a better-looking figure
    assert main(["store", "export", str(folder), "--check"]) == 1
    assert "edited since export" in capsys.readouterr().out
