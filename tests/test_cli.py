"""The headless CLI: list, run (JSON out, cached on the second call), runs, bad arguments."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=300)


@pytest.mark.slow  # seconds: a fresh Python (imports torch) or a whole corpus
def test_list_names_every_available_algorithm(store_dir):
    out = cli("list")
    assert out.returncode == 0
    assert "dnn" in out.stdout and "--variant mlp" in out.stdout


@pytest.mark.slow
def test_run_json_then_cached(store_dir):
    args = ("run", "dnn", "--variant", "logreg", "--variant", "mlp", "--preset", "quick",
            "--set", "train_limit=3000", "--set", "epochs=1", "--json")
    first = cli(*args)
    assert first.returncode == 0, first.stderr
    rows = [json.loads(line) for line in first.stdout.splitlines()]
    assert [r["variant"] for r in rows] == ["logreg", "mlp"]
    for row in rows:
        assert row["status"] == "done" and row["cached"] is False
        assert 0 <= row["metrics"]["test/acc"] <= 1
        assert row["params"] > 0 and row["train_seconds"] > 0
        assert {"run_id", "algorithm", "variant", "status", "cached", "train_seconds", "params",
                "metrics"} <= row.keys()
    again = [json.loads(line) for line in cli(*args).stdout.splitlines()]
    assert all(r["cached"] for r in again)
    assert [r["metrics"] for r in again] == [r["metrics"] for r in rows]
    listed = cli("runs")
    assert rows[0]["run_id"] in listed.stdout


def test_bad_arguments_exit_2_with_one_line(store_dir, capsys):
    cases = [("run", "dnn", "--set", "epochs=0"), ("run", "dnn", "--variant", "nope"),
             ("run", "nope"), ("run", "dnn", "--set", "epochs=abc"),
             ("run", "dnn", "--preset", "huge"), ("run", "dnn", "--set", "epochs")]
    for args in cases:  # in-process: the same main() as `python -m engine`, without start-up
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse's own errors
            code = exit_.code
        err = capsys.readouterr().err
        assert code == 2, args
        assert err.startswith("error: ") and err.count("\n") == 1, err
    main(["run", "dnn", "--set", "epochs=0"])
    assert capsys.readouterr().err == "error: epochs must be between 1 and 100, got 0\n"


@pytest.mark.slow  # seconds: a fresh Python (imports torch) or a whole corpus
def test_missing_data_is_one_clear_message(store_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("TOP10_DATA_MIRROR", str(tmp_path / "empty-mirror"))
    out = cli("run", "dnn", "--variant", "logreg", "--preset", "quick", "--json")
    row = json.loads(out.stdout)
    assert out.returncode == 1 and row["status"] == "failed"
    assert row["error"].startswith("MNIST is not available. Looked in:")
    assert "TOP10_DATA_MIRROR" in row["error"] and "Traceback" not in out.stderr


def _code(args) -> int:
    try:
        return main(list(args))
    except SystemExit as exit_:  # argparse's own errors
        return exit_.code


def test_seed_takes_ascii_digits_only(store_dir, capsys):
    for seed in ("\u0663", "\uff13", "1_0", ""):
        assert _code(["run", "dnn", "--variant", "mlp", "--seed", seed]) == 2, seed
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "ASCII" in err, err


def test_echoed_user_input_is_capped(store_dir, capsys):
    for args in (("run", "dnn", "--variant", "x" * 10_000), ("run", "y" * 10_000),
                 ("runs", "--status", "z" * 10_000)):
        assert _code(args) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and len(err) < 400, len(err)
        assert "…" in err


def test_runs_unknown_status_exits_2_naming_valid_ones(store_dir, capsys):
    assert _code(["runs", "--status", "weird"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'weird'" in err and "done" in err and "queued" in err
    assert _code(["runs", "--status", "done"]) == 0


def test_run_rejects_unknown_executor(store_dir, monkeypatch, capsys):
    monkeypatch.setenv("TOP10_EXECUTOR", "bogus")
    assert _code(["run", "dnn", "--variant", "mlp", "--preset", "quick"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bogus" in err and "process" in err and "ray" in err
