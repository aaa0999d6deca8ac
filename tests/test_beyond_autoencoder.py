"""Autoencoders (issue 12 item 3): the lesson labs/10_autoencoders.py, its checks and ``keraslab run autoencoder``.

The lesson's claim, asserted on real Fashion-MNIST at SMALL size: the test MSE falls
strictly as the bottleneck grows from 2 to 8 to 32 numbers (and the denoising
autoencoder's output is closer to the clean images than its noisy input).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import keras
import numpy as np
import pytest
from cli_runner import run_cli
from system_services import fashion_mnist_dir

from keraslab.beyond.catalog import TOPICS
from keraslab.check import autoencoder as check
from notebooks import CLAIMS_HOLD, named_edition, printed, run_notebook, stdout

LAB = Path(__file__).resolve().parents[1] / "labs" / "10_autoencoders.py"
FIGURES = ("image_rows(", "latent_space(", "bottleneck_error(")


def test_tutor_notebook_error_falls_with_the_bottleneck_on_real_images(monkeypatch):
    monkeypatch.delenv("KERASLAB_FASHION_MNIST_SHA256SUMS", raising=False)
    executed = run_notebook(named_edition(LAB, "tutor"), {"SMALL": True, "DATA_DIR": fashion_mnist_dir()}, timeout=900)
    assert CLAIMS_HOLD in stdout(executed.cells[-1])

    printed_mse = {int(size): float(mse) for cell in executed.cells if cell.cell_type == "code"
                   for size, mse in re.findall(r"bottleneck +(\d+): test MSE ([\d.]+)", stdout(cell))}
    assert sorted(printed_mse) == [2, 8, 32]
    assert printed_mse[2] > printed_mse[8] > printed_mse[32]
    lines = printed(executed, "check")
    assert len(lines) == 3 and all(line.startswith("✔") for line in lines), lines
    drawn = [cell for cell in executed.cells if cell.cell_type == "code" and any(f in cell.source for f in FIGURES)]
    assert len(drawn) >= 6 and all(any("image/png" in output.get("data", {}) for output in cell.outputs)
                                   for cell in drawn), "every figure shows inline"


def test_student_notebook_runs_with_empty_exercises_and_hints(tiny_fashion, monkeypatch):
    monkeypatch.setenv("KERASLAB_FASHION_MNIST_SHA256SUMS", str(tiny_fashion / "SHA256SUMS"))  # the kernel inherits it
    student = named_edition(LAB, "student")
    stubs = [cell for cell in student.cells if "exercise" in cell.metadata.get("tags", [])]
    assert len(stubs) == 3 and all("# your code here" in cell.source for cell in stubs)
    executed = run_notebook(student, {"SMALL": True, "DATA_DIR": str(tiny_fashion), "CHECK_CLAIMS": False},
                            timeout=900)
    lines = printed(executed, "check")
    assert len(lines) == 3 and all(line.startswith("✘") and "nothing to check yet" in line for line in lines), lines
    assert CLAIMS_HOLD in stdout(executed.cells[-1])


# --- the checks, on images an autoencoder learns in seconds ----------------------------------------------


@pytest.fixture(scope="module")
def patterns():
    """1,000 images, each one of ten smooth random patterns, dimmed or brightened: little to learn."""
    rng = np.random.default_rng(0)
    grid = np.linspace(0, 1, 28)
    prototypes = np.array([np.outer(np.sin(np.pi * k * grid) ** 2, np.cos(np.pi * (k + 1) * grid / 2) ** 2)
                           for k in range(1, 11)], dtype=np.float32)
    labels = rng.integers(0, 10, 1000)
    return (prototypes[labels] * rng.uniform(0.6, 1.0, (1000, 1, 1))).astype(np.float32)


def _dense(*widths, reshape=True):
    stack = [keras.Input(shape=(28, 28)), keras.layers.Flatten()]
    stack += [keras.layers.Dense(width, activation="relu") for width in widths]
    stack.append(keras.layers.Dense(28 * 28, activation="sigmoid"))
    return keras.Sequential(stack + [keras.layers.Reshape((28, 28))] * reshape)


@pytest.fixture(scope="module")
def trained_16(patterns):
    model = _dense(64, 16, 64)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    model.fit(patterns, patterns, batch_size=32, epochs=15, verbose=0)
    return model


def test_bottleneck_check_accepts_a_trained_autoencoder(trained_16, patterns):
    verdict = check.bottleneck_autoencoder(trained_16, patterns, bottleneck=16)
    assert verdict, verdict.message


@pytest.mark.parametrize(("answer", "hint"), [
    (None, "nothing to check yet"),
    ("untrained", "train your network"),
    ("bottleneck 32", "should have 16"),
    ("no reshape", "gives back an image of the input's shape"),
    ("not a model", "should be a Keras model"),
])
def test_bottleneck_check_rejects_wrong_answers(answer, hint, patterns):
    model = {"untrained": lambda: _dense(64, 16, 64), "bottleneck 32": lambda: _dense(64, 32, 64),
             "no reshape": lambda: _dense(64, 16, 64, reshape=False), "not a model": lambda: "model"}.get(answer)
    verdict = check.bottleneck_autoencoder(model() if model else answer, patterns, bottleneck=16)
    assert not verdict and hint in verdict.message, verdict.message


@pytest.fixture(scope="module")
def blank_autoencoder():
    """An "autoencoder" that draws black images: an image's error is its mean square brightness."""
    return keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Rescaling(0.0)])


@pytest.fixture(scope="module")
def graded_classes():
    """Class k's images are all k / 9 bright: class 9 (Ankle boot) is reconstructed worst, class 0 best."""
    labels = np.tile(np.arange(10), 5)
    return np.ones((50, 28, 28), np.float32) * (labels / 9.0)[:, None, None].astype(np.float32), labels


@pytest.mark.parametrize("answer", ["Ankle boot", "ankle boot", 9, np.int64(9)])
def test_worst_class_check_accepts_name_or_number(answer, blank_autoencoder, graded_classes):
    verdict = check.worst_class(answer, blank_autoencoder, *graded_classes)
    assert verdict and "Ankle boot" in verdict.message, verdict.message


@pytest.mark.parametrize(("answer", "hint"), [
    (None, "nothing to check yet"), (0, "reconstructs best"), ("Dress", "not the largest"),
    ("Sock", "not a class name"), (12, "number 0..9"),
])
def test_worst_class_check_rejects_wrong_answers(answer, hint, blank_autoencoder, graded_classes):
    verdict = check.worst_class(answer, blank_autoencoder, *graded_classes)
    assert not verdict and hint in verdict.message, verdict.message


def test_noise_check_accepts_clipped_noise_and_rejects_the_rest(patterns):
    rng = np.random.default_rng(5)
    noise = rng.normal(0, 0.8, patterns.shape)
    assert check.noisy_images(np.clip(patterns + noise, 0, 1), patterns, std=0.8)
    for wrong, hint in [(None, "nothing to check yet"), (patterns + noise, "clip them"),
                        (np.clip(patterns + noise / 4, 0, 1), "check the scale"), (patterns, "the clean images"),
                        (patterns[:10], "the same shape")]:
        verdict = check.noisy_images(wrong, patterns, std=0.8)
        assert not verdict and hint in verdict.message, (hint, verdict.message)


# --- keraslab run autoencoder ----------------------------------------------------------------------------


def test_run_autoencoder_writes_a_run_folder(tiny_fashion, tmp_path, monkeypatch):
    monkeypatch.setenv("KERASLAB_FASHION_MNIST_SHA256SUMS", str(tiny_fashion / "SHA256SUMS"))
    out = tmp_path / "run"
    assert run_cli("run", "autoencoder", "--data-dir", str(tiny_fashion), "--epochs", "1", "--bottlenecks", "3,2",
                   "--out", str(out)) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["bottlenecks"] == [2, 3] and metrics["conv_bottleneck"] == 3 and metrics["train_images"] == 60
    keys = ["test_mse_bottleneck_2", "test_mse_bottleneck_3", "test_mse_conv", "test_mse_noisy", "test_mse_denoised"]
    assert all(0 < metrics[key] < 1 and metrics["test_mse_error"][key] > 0 for key in keys), metrics
    assert metrics["test_mse_noisy"] == pytest.approx(0.12, abs=0.02)  # σ = 0.5 on uniform pixels, then clipped
    assert isinstance(metrics["mse_falls_with_bottleneck"], bool)
    history = json.loads((out / "history.json").read_text())
    assert sorted(history) == ["conv-3", "denoising-conv-3", "dense-2", "dense-3"]
    assert all(len(values["loss"]) == 1 and "val_loss" in values for values in history.values())
    for figure in ("reconstructions", "latent_space", "bottleneck_error", "denoising"):
        assert (out / f"{figure}.png").stat().st_size > 5_000
    assert set(TOPICS["autoencoder"].report_metrics) >= {"test_mse_conv", "test_mse_denoised"}


@pytest.mark.parametrize(("option", "message"), [("--bottlenecks", "positive"), ("--noise", "--noise")])
def test_bad_options_are_one_line_errors(option, message, tmp_path, capsys):
    value = {"--bottlenecks": "8,0", "--noise": "0"}[option]
    assert run_cli("run", "autoencoder", option, value, "--out", str(tmp_path / "run")) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err
    assert not (tmp_path / "run").exists()
