"""Anomaly detection on jets (issue 12 item 4): labs/11_anomaly_jets.py, its checks and ``keraslab run toptag-anomaly``.

On the tiny generated jets (320) the lesson asserts what holds at any size: the
autoencoder trains on QCD jets only, one finite error per test jet, finite AUCs. The
target AUC >= 0.85 needs thousands of jets; it is measured in docs/beyond/anomaly.md.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import keras
import numpy as np
import pytest
from cli_runner import run_cli

from keraslab import models
from keraslab.beyond import anomaly
from keraslab.beyond.catalog import TOPICS
from keraslab.check import anomaly as check
from keraslab.errors import UserError
from notebooks import CLAIMS_HOLD, named_edition, printed, run_notebook

LAB = Path(__file__).resolve().parents[1] / "labs" / "11_anomaly_jets.py"
CLAIMS_AT_SMALL_SIZE = 4
FIGURES = ("error_distributions.png", "roc.png", "mass_sculpting.png", "learning_curves.png")


def _assert_claims_hold(executed):
    claims = printed(executed, "claims")
    assert claims[-1] == CLAIMS_HOLD, claims
    assert len(claims) == CLAIMS_AT_SMALL_SIZE + 1 and all(line.startswith("holds ") for line in claims[:-1]), claims


@pytest.fixture
def jets(tiny_jets, tmp_path) -> Path:
    """A private copy of the tiny jets folder (the fixture's is shared and read-only)."""
    return Path(shutil.copytree(tiny_jets, tmp_path / "jets"))


def test_tutor_notebook_trains_on_qcd_only_and_checks_pass(jets):
    executed = run_notebook(named_edition(LAB, "tutor"), {"SMALL": True, "DATA": str(jets)}, timeout=900)
    _assert_claims_hold(executed)
    lines = printed(executed, "check")
    assert len(lines) == 2, lines
    assert lines[0].startswith("✔ the reconstruction error of each jet: 48 errors"), lines
    # 24 QCD test jets: the rejection's interval is wide, but the hand computation must fall inside it
    assert lines[1].startswith("✔ 1/eps_B at eps_S = 0.3 by hand"), lines


def test_student_notebook_runs_with_empty_exercises_and_hints(jets):
    student = named_edition(LAB, "student")
    stubs = [cell for cell in student.cells if "exercise" in cell.metadata.get("tags", [])]
    assert len(stubs) == 2 and all("# your code here" in cell.source for cell in stubs)
    executed = run_notebook(student, {"SMALL": True, "DATA": str(jets)}, timeout=900)
    lines = printed(executed, "check")
    assert len(lines) == 2 and all(line.startswith("✘") and "nothing to check yet" in line for line in lines), lines
    _assert_claims_hold(executed)  # the lesson never uses an exercise's answer


def test_run_writes_the_run_folder_with_both_taggers(jets, tmp_path, capsys):
    out = tmp_path / "run"
    assert run_cli("run", "toptag-anomaly", "--jets", str(jets), "--out", str(out), "--epochs", "2") == 0
    metrics = json.loads((out / "metrics.json").read_text())
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == len(history["val_loss"]) == 2
    assert all((out / name).stat().st_size > 5_000 for name in FIGURES)
    assert (out / "toptag-cnn" / "metrics.json").is_file()
    assert set(TOPICS["toptag-anomaly"].report_metrics) <= set(metrics)
    assert metrics["n_train_top"] == 0 and metrics["n_train_qcd"] == 96  # the 96 QCD jets of 192 training jets
    assert metrics["cnn_n_train"] == 192 and metrics["n_test"] == 48 and metrics["n_test_background"] == 24
    for key in ("auc", "cnn_auc"):
        assert 0 <= metrics[key] <= 1 and metrics[f"{key}_uncertainty"] > 0
    assert -1 <= metrics["mass_correlation_qcd"] <= 1
    saved = np.load(out / "test_scores.npz")
    assert saved["errors"].shape == saved["labels"].shape == (48,) and np.all(np.isfinite(saved["errors"]))
    assert "autoencoder (trained on QCD only): AUC" in capsys.readouterr().out


def test_run_without_a_jets_folder_says_how_to_make_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KERASLAB_JETS_DIR", str(tmp_path / "no-jets"))
    monkeypatch.setattr(anomaly, "can_generate", lambda: False)  # as without keraslab[generate]
    assert run_cli("run", "toptag-anomaly", "--out", str(tmp_path / "run")) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()[-1:]
    assert line.startswith("error: no jets folder") and "keraslab toptag generate --jets" in line


def test_without_a_jets_folder_a_small_one_is_generated_into_the_run_folder(tiny_jets, tmp_path, monkeypatch):
    from keraslab.toptag import generation

    asked = {}

    def generate(folder, settings, workers):  # the tiny folder stands in for Pythia's minute of work
        asked.update(jets=settings.jets, workers=workers)
        shutil.copytree(tiny_jets, folder)

    monkeypatch.setenv("KERASLAB_JETS_DIR", str(tmp_path / "no-jets"))
    monkeypatch.setattr(anomaly, "can_generate", lambda: True)
    monkeypatch.setattr(generation, "generate", generate)
    assert anomaly.jets_folder(None, tmp_path / "run") == tmp_path / "run" / "jets"
    assert asked == {"jets": anomaly.GENERATED_JETS, "workers": 2}
    assert anomaly.jets_folder(None, tmp_path / "other") == tmp_path / "other" / "jets"  # never reused across runs
    monkeypatch.setenv("KERASLAB_JETS_DIR", str(tiny_jets))
    assert anomaly.jets_folder(None, tmp_path / "third") == tiny_jets  # a jets folder there is used as it is


def test_run_with_a_folder_that_is_no_jets_folder_is_one_line_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert run_cli("run", "toptag-anomaly", "--jets", str(tmp_path / "empty"), "--out", str(tmp_path / "run")) == 2
    assert "is not a complete jets folder" in capsys.readouterr().err


# --- the numbers, on made-up scores ------------------------------------------------------------


def test_tagger_metrics_and_mass_sculpting_on_known_scores():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 2000)
    mass = rng.uniform(20, 250, labels.size)
    errors = np.exp(rng.normal(labels + mass / 100, 0.5))  # tops higher, and rising with the mass
    metrics = anomaly.tagger_metrics(labels, errors)
    assert 0.7 < metrics["auc"] < 0.9 and 0 < metrics["auc_uncertainty"] < 0.02
    assert metrics["n_test_background"] == 2000 and metrics["rejection_at_30_interval"][0] <= metrics["rejection_at_30"]
    sculpting = anomaly.mass_sculpting(errors, mass, labels)
    assert sculpting["mass_correlation_qcd"] > 10 * sculpting["mass_correlation_qcd_uncertainty"]
    shift = sculpting["qcd_mass_mean_after_cut"] - sculpting["qcd_mass_mean_before_cut"]
    assert shift > 5 * np.hypot(sculpting["qcd_mass_mean_before_cut_uncertainty"],
                                sculpting["qcd_mass_mean_after_cut_uncertainty"])  # the cut keeps the heavy QCD jets
    flat = anomaly.mass_sculpting(rng.permutation(errors[labels == 0]), mass[labels == 0], labels[labels == 0])
    assert abs(flat["mass_correlation_qcd"]) < 3 * flat["mass_correlation_qcd_uncertainty"]


def test_qcd_only_keeps_no_top_jet_and_refuses_too_few():
    images, labels = np.arange(10.0), np.array([0, 1] * 5)
    assert list(anomaly.qcd_only(images, labels)) == [0, 2, 4, 6, 8]
    with pytest.raises(UserError, match="QCD jets to train on"):
        anomaly.qcd_only(images[:2], np.array([1, 0]))


# --- the checks accept the right answer and hint at wrong ones ----------------------------------


def verdict_of(capsys, check_function, *args):
    verdict = check_function(*args)
    assert capsys.readouterr().out.splitlines() == [str(verdict)]
    return verdict


def assert_hint(capsys, check_function, *args, saying: str):
    verdict = verdict_of(capsys, check_function, *args)
    assert not verdict and saying in verdict.message, verdict.message


@pytest.fixture(scope="module")
def model_and_images():
    keras.utils.set_random_seed(1)
    images = np.random.default_rng(1).dirichlet(np.full(1600, 0.05), size=40).reshape(40, 40, 40, 1).astype("float32")
    return models.build("jet-autoencoder", bottleneck=4), images


def test_reconstruction_errors_check(capsys, model_and_images):
    model, images = model_and_images
    reconstructed = np.asarray(model.predict(images, verbose=0), dtype=np.float64)
    right = np.mean((images - reconstructed) ** 2, axis=(1, 2, 3))
    assert verdict_of(capsys, check.reconstruction_errors, right, model, images)
    assert verdict_of(capsys, check.reconstruction_errors, list(right), model, images)
    assert_hint(capsys, check.reconstruction_errors, None, model, images, saying="nothing to check yet")
    assert_hint(capsys, check.reconstruction_errors, right.mean(), model, images, saying="one number per jet")
    assert_hint(capsys, check.reconstruction_errors, np.sqrt(right), model, images, saying="square roots")
    assert_hint(capsys, check.reconstruction_errors, right * 1600, model, images, saying="sums over the 1600 pixels")
    absolute = np.mean(np.abs(images - reconstructed), axis=(1, 2, 3))
    assert_hint(capsys, check.reconstruction_errors, absolute, model, images, saying="mean absolute differences")
    assert_hint(capsys, check.reconstruction_errors, (images - reconstructed) ** 2, model, images, saying="shape")
    assert_hint(capsys, check.reconstruction_errors, right[::-1], model, images, saying="these differ")
    assert_hint(capsys, check.reconstruction_errors, right, "a model", images, saying="should be a Keras model")


def test_rejection_at_30_check(capsys):
    rng = np.random.default_rng(2)
    labels = np.repeat([0, 1], 500)
    errors = np.exp(rng.normal(labels * 1.5, 1.0 - 0.4 * labels))  # unequal widths: the slips give unequal values
    threshold = np.quantile(errors[labels == 1], 0.7)
    eps_b = np.mean(errors[labels == 0] > threshold)
    assert verdict_of(capsys, check.rejection_at_30, 1 / eps_b, labels, errors)
    assert_hint(capsys, check.rejection_at_30, None, labels, errors, saying="nothing to check yet")
    assert_hint(capsys, check.rejection_at_30, eps_b, labels, errors, saying="is eps_B")
    opposite = 1 / np.mean(errors[labels == 0] < np.quantile(errors[labels == 1], 0.3))
    assert_hint(capsys, check.rejection_at_30, opposite, labels, errors, saying="opposite tagger")
    swapped = 1 / np.mean(errors[labels == 1] > np.quantile(errors[labels == 0], 0.7))
    assert_hint(capsys, check.rejection_at_30, swapped, labels, errors, saying="classes are swapped")
    assert_hint(capsys, check.rejection_at_30, 1e6, labels, errors, saying="outside the interval")
