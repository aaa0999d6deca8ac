"""`keraslab run backup`: figures, metrics.json, exit codes; the autodiff checks under JAX."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import matplotlib.image
import pytest
from matplotlib.figure import Figure

from keraslab import cli
from keraslab.theory import backprop, backup, logic_gates
from keraslab.theory.demonstration import Claim, Demonstration


def _failing_demo() -> Demonstration:
    figure = Figure()
    figure.subplots().plot([0, 1])
    return Demonstration("broken", "A claim that does not hold", [Claim.at_most("broken_err", 1.0, 0.5, "error")],
                         figure)


def test_backup_writes_figures_and_metrics(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(backup, "demonstrations", lambda small: [logic_gates.demonstrate, backprop.demonstrate])
    out = tmp_path / "backup"
    cli.main(["run", "backup", "--out", str(out)])  # returns normally: every claim holds
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["logic_gates_exact"] is True
    assert metrics["autodiff_max_rel_err"] <= backprop.AUTODIFF_TOLERANCE
    assert metrics["claims"]["graph_finite_diff_max_rel_err"]["passed"] is True
    assert metrics["all_passed"] is True and metrics["backend"] == "tensorflow"
    for name, file in metrics["figures"].items():
        image = matplotlib.image.imread(out / file)  # a readable PNG with content
        assert image.shape[0] > 100 and image.std() > 0, name
    assert "all 4 claims hold" in capsys.readouterr().out


def test_a_failing_claim_exits_1(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(backup, "demonstrations", lambda small: [_failing_demo])
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", "backup", "--out", str(tmp_path / "run")])
    assert exit_info.value.code == 1
    assert "FAILED claims: broken_err" in capsys.readouterr().out
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["all_passed"] is False


def test_an_occupied_folder_is_refused_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(backup, "demonstrations", lambda small: [_failing_demo])
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", "backup", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "--overwrite" in err and "--resume" not in err
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_small_run_shrinks_only_the_learning_rate_scan():
    small, full = backup.demonstrations(small=True), backup.demonstrations(small=False)
    assert small[:-1] == full[:-1]
    assert small[-1].keywords == backup.SMALL_SCAN and full[-1].keywords == backup.FULL_SCAN


JAX_CHECK = """
import keras
from keraslab.theory import activations, backprop
assert keras.backend.backend() == "jax", keras.backend.backend()
for demo in (activations.demonstrate(), backprop.demonstrate()):
    for claim in demo.claims:
        print(claim.metric, claim.value, claim.passed)
        assert claim.passed, claim
"""


def test_autodiff_checks_hold_on_jax():
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    result = subprocess.run([sys.executable, "-c", JAX_CHECK], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "autodiff_max_rel_err" in result.stdout and "graph_autodiff_max_rel_err" in result.stdout
