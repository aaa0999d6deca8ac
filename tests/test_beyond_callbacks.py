"""Callbacks (issue 12 item 1): the lesson labs/08_callbacks.py, its checks and ``keraslab run callbacks``.

The lesson's claim, asserted on real Fashion-MNIST at SMALL size: early stopping ends
before the epoch budget and restores the weights with the lowest validation loss (the
restored model and the reloaded best checkpoint both have that loss).
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from cli_runner import run_cli
from system_services import fashion_mnist_dir

from keraslab.check import callbacks as check
from notebooks import CLAIMS_HOLD, named_edition, printed, run_notebook, stdout

LAB = Path(__file__).resolve().parents[1] / "labs" / "08_callbacks.py"


def _cell_printing(notebook, text):
    return next(cell for cell in notebook.cells if cell.cell_type == "code" and text in stdout(cell))


def test_tutor_notebook_early_stopping_restores_the_best_loss_on_real_images(monkeypatch):
    monkeypatch.delenv("KERASLAB_FASHION_MNIST_SHA256SUMS", raising=False)
    executed = run_notebook(named_edition(LAB, "tutor"), {"SMALL": True, "DATA_DIR": fashion_mnist_dir()}, timeout=900)
    assert CLAIMS_HOLD in stdout(executed.cells[-1])

    stop = re.search(r"stopped after epoch (\d+) of (\d+); restored the weights of epoch (\d+)",
                     stdout(_cell_printing(executed, "restored the weights")))
    ran, budget, best = (int(value) for value in stop.groups())
    assert best < ran < budget
    losses = stdout(_cell_printing(executed, "reloaded best.keras"))
    lowest = float(re.search(r"lowest validation loss in the history (\S+)", losses).group(1))
    restored, reloaded = (float(value) for value in re.search(r"restored model (\S+); reloaded best.keras (\S+)",
                                                                  losses).groups())
    assert restored == pytest.approx(lowest, abs=1e-4) and reloaded == pytest.approx(lowest, abs=1e-4)

    fit_cell = _cell_printing(executed, "restored the weights")
    live = [output for output in fit_cell.outputs if output.get("output_type") == "display_data"]
    assert len(live) == 1 and "image/png" in live[0]["data"], "one live figure, updated in place"
    assert all(line.startswith("✔") for line in printed(executed, "check")), printed(executed, "check")


def test_student_notebook_runs_with_empty_exercises_and_hints(tiny_fashion, monkeypatch):
    student = named_edition(LAB, "student")
    assert not [cell for cell in student.cells if "solution" in cell.metadata.get("tags", [])]
    stubs = [cell for cell in student.cells if "exercise" in cell.metadata.get("tags", [])]
    assert len(stubs) >= 2 and all("# your code here" in cell.source for cell in stubs)
    monkeypatch.setenv("KERASLAB_FASHION_MNIST_SHA256SUMS", str(tiny_fashion / "SHA256SUMS"))
    executed = run_notebook(student, {"SMALL": True, "DATA_DIR": str(tiny_fashion), "CHECK_CLAIMS": False},
                            timeout=900)
    lines = printed(executed, "check")
    assert len(lines) == len(stubs), lines
    assert all(line.startswith("✘") and "nothing to check yet" in line for line in lines), lines


# --- the checks --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def noisy_problem():
    """Random labels: nothing to learn, so the validation loss rises from the first epochs on."""
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(400, 20)).astype("float32"), rng.integers(0, 2, 400)
    return (x[:300], y[:300]), (x[300:], y[300:])


def _trained(problem, stopper, epochs=30):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(20,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    (train, validation) = problem
    history = model.fit(*train, validation_data=validation, epochs=epochs, callbacks=[stopper] if stopper else [],
                        verbose=0)
    return model, history


@pytest.fixture(scope="module")
def stopped(noisy_problem):
    """(stopper, model, history) of a right answer: patience 2, best weights restored."""
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    model, history = _trained(noisy_problem, stopper)
    return stopper, model, history


def test_early_stopping_check_accepts_a_stopper_that_restores_the_best_weights(noisy_problem, stopped):
    stopper, model, history = stopped
    assert check.early_stopping(stopper, history, model, *noisy_problem[1])


@pytest.mark.parametrize(("stopper", "hint"), [
    (None, "nothing to check yet"),
    ("patience=2", "should be keras.callbacks.EarlyStopping"),
    ({"monitor": "loss", "patience": 2, "restore_best_weights": True}, "monitor='val_loss'"),
    ({"monitor": "val_loss", "patience": 2}, "restore_best_weights=True"),
])
def test_early_stopping_check_rejects_wrong_stoppers(noisy_problem, stopped, capsys, stopper, hint):
    _, model, history = stopped
    stopper = keras.callbacks.EarlyStopping(**stopper) if isinstance(stopper, dict) else stopper
    verdict = check.early_stopping(stopper, history, model, *noisy_problem[1])
    assert not verdict and hint in verdict.message
    assert capsys.readouterr().out.strip() == str(verdict)  # one line


def test_early_stopping_check_rejects_a_training_that_ran_its_whole_budget(noisy_problem):
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=50, restore_best_weights=True)
    model, history = _trained(noisy_problem, stopper, epochs=3)
    verdict = check.early_stopping(stopper, history, model, *noisy_problem[1])
    assert not verdict and "ran all 3 epochs" in verdict.message


def test_early_stopping_check_rejects_a_model_without_the_best_weights(noisy_problem, stopped):
    stopper, _, history = stopped
    other, _ = _trained(noisy_problem, keras.callbacks.EarlyStopping(monitor="val_loss", patience=2))  # last weights
    verdict = check.early_stopping(stopper, history, other, *noisy_problem[1])
    assert not verdict and "is it the model" in verdict.message


class StopAtAccuracy(keras.callbacks.Callback):
    def __init__(self, target):
        super().__init__()
        self.target = target

    def on_epoch_end(self, epoch, logs=None):
        if logs["val_accuracy"] >= self.target:
            self.model.stop_training = True


class NeverStops(StopAtAccuracy):
    def on_epoch_end(self, epoch, logs=None):
        pass


class AlwaysStops(StopAtAccuracy):
    def on_epoch_end(self, epoch, logs=None):
        self.model.stop_training = True


class StopsOneEpochLate(StopAtAccuracy):
    def on_epoch_end(self, epoch, logs=None):
        if getattr(self, "reached", False):
            self.model.stop_training = True
        self.reached = logs["val_accuracy"] >= self.target


def test_accuracy_stopper_check_accepts_a_right_callback():
    assert check.accuracy_stopper(StopAtAccuracy)


@pytest.mark.parametrize(("answer", "hint"), [
    (None, "nothing to check yet"),
    (StopAtAccuracy(0.9), "should be a class"),
    (NeverStops, "training went on"),
    (StopsOneEpochLate, "training went on"),
    (AlwaysStops, "stopped after epoch 1, before"),
])
def test_accuracy_stopper_check_rejects_wrong_callbacks(answer, hint):
    verdict = check.accuracy_stopper(answer)
    assert not verdict and hint in verdict.message


# --- keraslab run callbacks ----------------------------------------------------------------


def test_run_callbacks_writes_its_run_folder(tiny_fashion, tmp_path, monkeypatch):
    monkeypatch.setenv("KERASLAB_FASHION_MNIST_SHA256SUMS", str(tiny_fashion / "SHA256SUMS"))
    out = tmp_path / "run"
    args = ["run", "callbacks", "--data-dir", str(tiny_fashion), "--epochs", "6", "--patience", "1",
            "--schedule-epochs", "2", "--out", str(out)]
    assert run_cli(*args) == 0
    for name in ("metrics.json", "history.json", "histories.json", "early_stopping.png", "learning_rate.png",
                 "log.csv", "best.keras"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    history = json.loads((out / "history.json").read_text())
    assert metrics["epochs_budget"] == 6 and metrics["stopped_epoch"] == len(history["loss"]) <= 6
    assert metrics["best_val_loss"] == min(history["val_loss"])
    assert metrics["best_epoch"] == int(np.argmin(history["val_loss"])) + 1
    assert metrics["restored_val_loss"] == pytest.approx(metrics["best_val_loss"], rel=1e-4)
    assert metrics["checkpoint_val_loss"] == pytest.approx(metrics["best_val_loss"], rel=1e-4)
    log = pd.read_csv(out / "log.csv")
    assert list(log["val_loss"]) == pytest.approx(history["val_loss"], rel=1e-6)
    assert list(log["learning_rate"]) == pytest.approx([1e-3] * len(log))
    histories = json.loads((out / "histories.json").read_text())
    cosine = histories["cosine decay"]["learning_rate"]  # the rate each epoch trained with: 1e-3 first
    assert cosine[0] == pytest.approx(1e-3) and cosine[-1] == pytest.approx(0.5e-3 * (1 + np.cos(np.pi / 2)))
    assert len(histories["ReduceLROnPlateau"]["learning_rate"]) == 2
    if importlib.util.find_spec("tensorboard") is not None:  # keraslab[notebooks] brings it
        assert metrics["tensorboard"] is True
        assert list((out / "tensorboard").rglob("events.out.tfevents.*")), "TensorBoard wrote its event files"

    assert run_cli(*args) == 2, "a finished run is not overwritten without --overwrite"


def test_run_callbacks_without_data_is_one_line_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    code = run_cli("run", "callbacks", "--data-dir", str(tmp_path / "no-such-folder"), "--out", str(out))
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: ") and "no-such-folder" in err and "\n" not in err
    assert not out.exists()
