"""Initial values of the weights (issue 12 item 2): labs/09_initialisation.py, its checks and
``keraslab run initialisation``.

The lesson's claims are asserted by its last cell, run here at SMALL size on real
Fashion-MNIST: zeros and a constant leave the units of a layer copies of each other
after training; a too-small normal makes the gradient vanish layer by layer; a
too-large one makes ReLU's gradient explode and saturates tanh; He with ReLU and Glorot
with tanh keep the activations' spread within a factor 4, and He trains fastest with
ReLU. The first-step claims hold on any images: the run part's are asserted on noise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jupytext
import keras
import numpy as np
import pytest
from system_services import fashion_mnist_dir

from keraslab import models
from keraslab.beyond import initialisation
from keraslab.check import initialisation as check
from notebooks import CLAIMS_HOLD, named_edition, printed, run_notebook, stdout

LAB = Path(__file__).resolve().parents[1] / "labs" / "09_initialisation.py"


def _check_cells(notebook):
    return [cell for cell in notebook.cells if "check" in cell.metadata.get("tags", [])]


# --- the lesson --------------------------------------------------------------------------------


def test_tutor_notebook_asserts_its_claims_on_real_images(monkeypatch):
    monkeypatch.delenv("KERASLAB_FASHION_MNIST_SHA256SUMS", raising=False)
    executed = run_notebook(named_edition(LAB, "tutor"), {"SMALL": True, "DATA_DIR": fashion_mnist_dir()}, timeout=900)
    lines = printed(executed, "check")
    assert len(lines) == len(_check_cells(executed)) >= 2 and all(line.startswith("✔") for line in lines), lines
    drawn = [cell for cell in executed.cells if cell.cell_type == "code" and "initialisation." in cell.source
             and "assert" not in cell.source]
    assert drawn and all(any("image/png" in output.get("data", {}) for output in cell.outputs) for cell in drawn)
    assert CLAIMS_HOLD in stdout(executed.cells[-1])


def test_student_notebook_runs_with_empty_exercises_and_hints(tiny_fashion, monkeypatch):
    student = named_edition(LAB, "student")
    solutions = [cell.source for cell in jupytext.read(LAB).cells if "solution" in cell.metadata.get("tags", [])]
    stubs = [cell for cell in student.cells if "exercise" in cell.metadata.get("tags", [])]
    assert len(stubs) >= 2 and all("# your code here" in cell.source for cell in stubs)
    assert not {cell.source for cell in student.cells} & set(solutions)
    monkeypatch.setenv("KERASLAB_FASHION_MNIST_SHA256SUMS", str(tiny_fashion / "SHA256SUMS"))  # the kernel inherits it
    executed = run_notebook(student, {"SMALL": True, "DATA_DIR": str(tiny_fashion), "CHECK_CLAIMS": False},
                            timeout=900)
    lines = printed(executed, "check")
    assert len(lines) == len(_check_cells(student)), lines
    assert all(line.startswith("✘") and "nothing to check yet" in line for line in lines), lines


# --- the checks (any backend) --------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["he_normal", "he_uniform", keras.initializers.HeNormal,
                                    lambda: keras.initializers.RandomNormal(stddev=(2 / 100) ** 0.5)])
def test_relu_initializer_accepts_variance_keeping_choices(answer):
    assert check.relu_initializer(answer)


@pytest.mark.parametrize(("answer", "hint"), [
    (None, "nothing to check yet"),
    ("glorot_uniform", "shrinks"),  # Keras' default: made for tanh
    (keras.initializers.Zeros, "copies of each other"),
    (lambda: keras.initializers.Constant(0.01), "copies of each other"),
    (lambda: keras.initializers.RandomNormal(stddev=1.0), "grows"),
    (keras.initializers.HeNormal(), "one object would give every layer the same weights"),
    ("no_such_initializer", "could not be checked"),
])
def test_relu_initializer_rejects_with_a_hint(answer, hint, capsys):
    verdict = check.relu_initializer(answer)
    assert not verdict and hint in verdict.message
    assert capsys.readouterr().out.count("\n") == 1  # one printed line


@pytest.fixture(scope="module")
def glorot_relu():
    keras.utils.set_random_seed(1)
    model = models.build(initialisation.NETWORK)
    images = np.random.default_rng(1).uniform(0, 1, (64, 28, 28)).astype("float32")
    probe = keras.Model(model.inputs, [layer.output for layer in model.layers[1:-1]])
    return model, images, [float(np.std(out)) for out in probe.predict(images, verbose=0)]


def test_activation_stds_accepts_the_stds_by_hand(glorot_relu):
    model, images, stds = glorot_relu
    assert check.activation_stds(stds, model, images)


@pytest.mark.parametrize(("wrong", "hint"), [
    (lambda stds: None, "nothing to check yet"),
    (lambda stds: stds[:-1], "one number per hidden layer"),
    (lambda stds: np.ones((10, 100)), "one number per hidden layer"),
    (lambda stds: [*stds[:3], 2 * stds[3], *stds[4:]], "hidden layer 4 differs"),
])
def test_activation_stds_rejects_with_a_hint(glorot_relu, wrong, hint):
    model, images, stds = glorot_relu
    verdict = check.activation_stds(wrong(stds), model, images)
    assert not verdict and hint in verdict.message


def test_unit_spread_is_zero_only_for_copies():
    column = np.arange(5.0)[:, None]
    assert initialisation.unit_spread(np.hstack([column] * 4)) == 0.0
    assert initialisation.unit_spread(np.zeros((5, 4))) == 0.0
    assert initialisation.unit_spread(np.hstack([column, column + 1])) == pytest.approx(1 / 5)


def test_deep_mlp_refuses_one_initializer_object_for_every_layer():
    from keraslab.errors import UserError

    with pytest.raises(UserError, match="same weights"):
        models.build(initialisation.NETWORK, kernel_initializer=keras.initializers.RandomNormal())


# --- keraslab run initialisation -----------------------------------------------------------------


def _keraslab(*args, cwd, **env):
    env = {**{key: value for key, value in os.environ.items() if key != "KERAS_BACKEND"}, **env}  # the part picks JAX
    return subprocess.run([sys.executable, "-m", "keraslab.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def test_run_part_writes_its_run_folder_and_the_first_step_claims(tmp_path, tiny_fashion):
    result = _keraslab("run", "initialisation", "--data-dir", str(tiny_fashion), "--train-images", "60",
                       "--epochs", "1", "--out", "run", cwd=tmp_path,
                       KERASLAB_FASHION_MNIST_SHA256SUMS=str(tiny_fashion / "SHA256SUMS"))
    assert result.returncode == 0, result.stderr[-2000:]
    run = tmp_path / "run"
    assert {"metrics.json", "history.json", "std_per_layer.png", "histograms_relu.png", "histograms_tanh.png",
            "learning_curves.png"} <= {path.name for path in run.iterdir()}
    metrics = json.loads((run / "metrics.json").read_text())
    variants = metrics["variants"]
    assert len(variants) == 12 == len(json.loads((run / "history.json").read_text()))
    assert metrics["backend"] == "jax" and metrics["params"] == 170_410 and metrics["train_images"] == 60
    assert metrics["fastest_relu"] in initialisation.initializers()
    # the first step's claims, on noise images
    for start in ("zeros", "constant"):
        for activation in initialisation.ACTIVATIONS:
            assert variants[f"{activation} {start}"]["unit_spread"] < initialisation.SAME_UNITS
    assert variants["relu he"]["unit_spread"] > 0.1
    assert metrics["relu_small_normal_gradient_std_ratio"] < 1e-3 and variants["tanh small-normal"]["gradient_std_ratio"] < 1e-3
    assert metrics["relu_large_normal_gradient_std_ratio"] > 1e3
    assert metrics["tanh_large_normal_saturated_fraction"] > 0.5
    assert initialisation.in_band(metrics["relu_he_activation_std_ratio"])
    assert initialisation.in_band(metrics["tanh_glorot_activation_std_ratio"])
    assert not initialisation.in_band(metrics["relu_glorot_activation_std_ratio"])


def test_run_part_keeps_a_folder_that_is_not_a_run(tmp_path):
    from keraslab.beyond.catalog import TOPICS
    from keraslab.errors import UserError

    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "mine.txt").write_text("keep me")
    with pytest.raises(UserError, match="not a keraslab run folder"):
        initialisation.run(TOPICS["initialisation"], tmp_path / "notes", overwrite=True, epochs=1, train_images=60)
    assert [path.name for path in (tmp_path / "notes").iterdir()] == ["mine.txt"]
