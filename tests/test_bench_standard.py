"""`python -m engine bench standard`: trains every variant of the chosen cards into a fresh
store (never the user's), prints a wall time and headline per card and a total, and puts
the caller's folders back."""
import os

import pytest

from engine import cli, registry

pytestmark = pytest.mark.slow  # every test here trains


def test_trains_each_variant_in_a_fresh_store_and_prints_the_total(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TOP10_STORE", str(tmp_path / "mine"))
    assert cli.main(["bench", "standard", "--preset", "quick", "--algorithms", "dnn"]) == 0
    out = capsys.readouterr().out
    for variant in registry.card("dnn").variants:
        assert f"{variant}: {registry.card('dnn').headline}=" in out
    assert "total" in out.splitlines()[-1] and " s (" in out.splitlines()[-1]
    assert "fresh store" in out
    assert os.environ["TOP10_STORE"] == str(tmp_path / "mine")
    assert not (tmp_path / "mine").exists()  # nothing went into the user's store


def test_unknown_algorithm_exits_2_in_one_line(capsys):
    try:
        cli.main(["bench", "standard", "--algorithms", "dnn,tetris"])
    except SystemExit as stop:
        assert stop.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "tetris" in err


def test_against_trains_each_card_with_the_setting_first_and_gives_the_ratio(capsys):
    assert cli.main(["bench", "standard", "--preset", "quick", "--algorithms", "lstm",
                     "--against", "precision=fp32"]) == 0
    out = capsys.readouterr().out
    assert "(with precision=fp32: " in out and "x as long)" in out
    assert "with precision=fp32: lstm: val/loss=" in out
