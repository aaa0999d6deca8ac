"""Alternative libraries (labs/12_backends.py, keraslab run backends, keraslab.check.backends).

The lesson's claim: a model saved as .keras on one backend loads on another and gives the
same predictions within float32 tolerance (``backends.AGREEMENT_TOLERANCE``, 1e-5 on each
probability). PyTorch is an optional extra: its tests skip where it is missing.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import keras
import numpy as np
import pytest
from cli_runner import run_cli
from day1_data import write_tiny_fashion_mnist
from system_services import fashion_mnist_dir

from keraslab.beyond import backends
from keraslab.check import backends as check
from notebooks import CLAIMS_HOLD, named_edition, printed, run_notebook, stdout

NOTEBOOK = Path(__file__).resolve().parents[1] / "labs" / "12_backends.py"
needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                                 reason=f"PyTorch is not installed: {backends.TORCH_INSTALL}")


@pytest.fixture(scope="module")
def tiny_fashion(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fashion")
    write_tiny_fashion_mnist(folder, n_train=64, n_test=24)
    return folder


@pytest.fixture
def look_alikes(tiny_fashion, monkeypatch):
    monkeypatch.setenv("KERASLAB_FASHION_MNIST_SHA256SUMS", str(tiny_fashion / "SHA256SUMS"))  # workers inherit it
    return tiny_fashion


def _run(which: str, parameters: dict):
    return run_notebook(named_edition(NOTEBOOK, which), parameters, timeout=900)


def test_tutor_notebook_moves_the_model_between_backends_on_real_images(monkeypatch):
    monkeypatch.delenv("KERASLAB_FASHION_MNIST_SHA256SUMS", raising=False)
    executed = _run("tutor", {"SMALL": True, "DATA_DIR": fashion_mnist_dir()})
    checks = printed(executed, "check")
    assert len(checks) == 2 and all(line.startswith("✔") for line in checks), checks
    assert CLAIMS_HOLD in stdout(executed.cells[-1])
    figure = next(cell for cell in executed.cells if "comparison_figure" in cell.source)
    assert any("image/png" in output.get("data", {}) for output in figure.outputs)


def test_student_notebook_runs_with_empty_exercises_and_hints(look_alikes):
    student = named_edition(NOTEBOOK, "student")
    stubs = [cell for cell in student.cells if "exercise" in cell.metadata.get("tags", [])]
    assert len(stubs) >= 2 and all("# your code here" in cell.source for cell in stubs)
    assert not [cell for cell in student.cells if "solution" in cell.metadata.get("tags", [])]
    executed = run_notebook(student, {"SMALL": True, "DATA_DIR": str(look_alikes), "CHECK_CLAIMS": False},
                            timeout=900)
    lines = printed(executed, "check")
    assert len(lines) == 2 and all(line.startswith("✘") and "nothing to check yet" in line for line in lines), lines
    # the backends' agreement does not depend on learning anything: it holds on noise too
    assert CLAIMS_HOLD in stdout(executed.cells[-1])


def test_keraslab_run_backends_writes_its_run_folder(look_alikes, tmp_path, capsys):
    out = tmp_path / "run"
    assert run_cli("run", "backends", "--data-dir", str(look_alikes), "--epochs", "2", "--out", str(out)) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"tensorflow", "jax"} <= set(metrics["backends"])
    for name in [*metrics["backends"], backends.HAND]:
        assert metrics[f"{name}_seconds_per_epoch"] > 0 and 0 <= metrics[f"{name}_test_accuracy"] <= 1
    assert min(metrics[f"{name}_time_ratio"] for name in metrics["backends"]) == 1
    assert set(metrics["agreement"]) >= {"tensorflow -> jax", "jax -> tensorflow"}
    assert metrics["max_abs_difference"] <= backends.AGREEMENT_TOLERANCE and metrics["same_predictions"] is True
    if "torch" not in metrics["backends"]:
        assert metrics["missing"]["torch"] == backends.TORCH_INSTALL
    history = json.loads((out / "history.json").read_text())
    assert set(history) == {*metrics["backends"], backends.HAND}
    assert all(len(h["loss"]) == len(h["epoch_seconds"]) == 2 for h in history.values())
    assert (out / "backends.png").stat().st_size > 10_000
    assert all((out / f"fashion_mlp_{backend}.keras").is_file() for backend in metrics["backends"])
    assert "run folder:" in capsys.readouterr().out

    before = (out / "metrics.json").read_bytes()
    assert run_cli("run", "backends", "--data-dir", str(look_alikes), "--epochs", "1", "--out", str(out)) != 0
    assert (out / "metrics.json").read_bytes() == before, "nothing overwritten without --overwrite"
    assert "--overwrite" in capsys.readouterr().err


def test_a_missing_data_folder_is_one_line_error(tmp_path, capsys):
    assert run_cli("run", "backends", "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "run")) != 0
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "nowhere" in error
    assert not (tmp_path / "run").exists()


def test_a_failing_worker_is_one_line_user_error(tmp_path):
    from keraslab.errors import UserError

    with pytest.raises(UserError, match="^jax: .*nowhere"):
        backends.compare(["jax"], tmp_path, epochs=1, data_dir=tmp_path / "nowhere", progress=lambda line: None)


@needs_torch
def test_torch_loads_what_jax_saved_and_agrees(look_alikes, tmp_path):
    result = backends.compare(["torch", "jax"], tmp_path, epochs=1, data_dir=look_alikes, progress=lambda line: None)
    assert set(result["agreement"]) == {"torch -> jax", "jax -> torch"}
    assert result["max_abs_difference"] <= backends.AGREEMENT_TOLERANCE


def test_torch_is_reported_as_missing_with_its_install_command():
    if importlib.util.find_spec("torch") is not None:
        pytest.skip("PyTorch is installed here; test_torch_loads_what_jax_saved_and_agrees covers it")
    assert backends.installed()["torch"] is None
    assert backends.missing_hint("torch") == "pip install 'keraslab[torch]'"


def test_agreement_measures_the_largest_difference_and_the_same_classes():
    reference = np.array([[0.7, 0.3], [0.4, 0.6], [0.5, 0.5]])
    result = backends.agreement(reference, reference + [[-2e-6, 2e-6], [0, 0], [-1e-3, 1e-3]])
    assert result["max_abs_difference"] == pytest.approx(1e-3)
    assert result["same_class_fraction"] == pytest.approx(2 / 3)  # the tie breaks the other way


def test_adam_by_hand_is_keras_adam():
    """Three steps of backends.adam_step against keras.optimizers.Adam on the same gradients."""
    import jax

    rng = np.random.default_rng(3)
    images, labels = rng.random((16, 28, 28), dtype=np.float32), rng.integers(0, 10, 16)
    params = backends.init_params(seed=3, sizes=(784, 8, 10))
    moments = (jax.tree.map(np.zeros_like, params), jax.tree.map(np.zeros_like, params))
    variables = [keras.Variable(np.asarray(p)) for p in jax.tree.leaves(params)]
    optimizer = keras.optimizers.Adam(learning_rate=0.01)
    for step in range(1, 4):
        current = jax.tree.unflatten(jax.tree.structure(params), [np.asarray(v) for v in variables])
        gradients = jax.tree.leaves(jax.grad(backends.loss)(current, images, labels))
        optimizer.apply([np.asarray(g) for g in gradients], variables)
        params, moments, _ = backends.adam_step(params, moments, step, images, labels, learning_rate=0.01)
        for mine, theirs in zip(jax.tree.leaves(params), variables):
            np.testing.assert_allclose(np.asarray(mine), keras.ops.convert_to_numpy(theirs), atol=1e-6)


# ---- the exercises' checks: right answers pass, wrong ones get a hint ----

def _tiny_model():
    return keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),
                             keras.layers.Dense(10, activation="softmax")])


def test_saved_and_reloaded_accepts_a_model_loaded_from_its_file(tmp_path):
    model, images = _tiny_model(), np.random.default_rng(0).random((8, 28, 28), dtype=np.float32)
    path = tmp_path / "mine.keras"
    model.save(path)
    assert check.saved_and_reloaded(path, keras.saving.load_model(path), model, images)


def test_saved_and_reloaded_rejects_wrong_answers(tmp_path):
    model, images = _tiny_model(), np.random.default_rng(0).random((8, 28, 28), dtype=np.float32)
    path = tmp_path / "mine.keras"
    model.save(path)
    assert not check.saved_and_reloaded(None, None, model, images)
    assert not check.saved_and_reloaded(tmp_path / "absent.keras", model, model, images)
    assert not check.saved_and_reloaded(path, model, model, images)  # not loaded at all
    assert not check.saved_and_reloaded(path, _tiny_model(), model, images)  # other weights
    weights = tmp_path / "mine.weights.h5"
    model.save_weights(weights)
    assert not check.saved_and_reloaded(weights, keras.saving.load_model(path), model, images)


def test_sgd_step_accepts_gradient_descent():
    assert check.sgd_step(backends.sgd_step)


def test_sgd_step_rejects_wrong_steps(capsys):
    import jax

    def uphill(params, images, labels, learning_rate):
        gradients = jax.grad(backends.loss)(params, images, labels)
        return jax.tree.map(lambda p, g: p + learning_rate * g, params, gradients)

    def unscaled(params, images, labels, learning_rate):
        gradients = jax.grad(backends.loss)(params, images, labels)
        return jax.tree.map(lambda p, g: p - g, params, gradients)

    assert not check.sgd_step(None)
    assert not check.sgd_step(lambda params, images, labels, learning_rate: params)
    assert not check.sgd_step(uphill)
    assert not check.sgd_step(unscaled)
    assert not check.sgd_step(lambda params, images, labels, learning_rate: params[0])
    lines = capsys.readouterr().out.splitlines()
    assert ["nothing to check yet" in lines[0], "did not change" in lines[1], "uphill" in lines[2],
            "differs" in lines[3], "same structure" in lines[4]] == [True] * 5, lines
