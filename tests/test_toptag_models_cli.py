"""keraslab run toptag-*, toptag compare and toptag predict on the tiny generated jets."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from keraslab import cli
from keraslab.toptag import dataset


def keraslab(*args: str, capsys) -> tuple[int, str]:
    """Run the CLI in this process; return (exit code, stderr)."""
    try:
        cli.main([str(a) for a in args])
        code = 0
    except SystemExit as exit_info:
        code = exit_info.code
    return code, capsys.readouterr().err


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2
    lines = [line for line in err.strip().splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0]


@pytest.fixture(scope="module")
def cnn_run(tiny_jets, tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("runs") / "cnn"
    cli_args = ["run", "toptag-cnn", "--data", tiny_jets, "--out", run_dir, "--jets", 150, "--epochs", 1]
    try:
        cli.main([str(a) for a in cli_args])
    except SystemExit as exit_info:
        assert exit_info.code in (0, None)
    return run_dir


def test_a_run_writes_the_figures_of_merit(cnn_run):
    metrics = json.loads((cnn_run / "metrics.json").read_text())
    assert metrics["params"] == 6538
    assert metrics["n_train"] == 150
    assert 0 <= metrics["auc"] <= 1 and 0 <= metrics["accuracy"] <= 1
    assert metrics["rejection_at_30"] >= 1
    # every figure of merit with its uncertainty, and the test QCD jets behind the rejections
    with np.load(cnn_run / "test_scores.npz") as saved:
        assert metrics["n_test_background"] == int(np.sum(saved["labels"] == 0)) > 0
    assert metrics["auc_uncertainty"] > 0
    for at in ("30", "50"):
        low, high = metrics[f"rejection_at_{at}_interval"]
        assert low <= metrics[f"rejection_at_{at}"] <= high
        assert 0 <= metrics[f"background_passing_at_{at}"] <= metrics["n_test_background"]
    assert metrics["fit_seconds"] > 0 and metrics["epochs_run"] == 1
    assert metrics["backend"] in ("tensorflow", "jax")
    for name in ("model.weights.h5", "history.json", "learning_curves.png", "roc.png", "signal_probability.png", "toptag.json"):
        assert (cnn_run / name).is_file(), name
    with np.load(cnn_run / "test_scores.npz") as saved:
        assert len(saved["labels"]) == metrics["n_test"] == dataset.count_jets(dataset.sample_path(Path(json.loads((cnn_run / "toptag.json").read_text())["data"]), "test"))


def test_predict_writes_validated_scores_in_file_order_and_never_overwrites(cnn_run, tiny_jets, tmp_path, capsys):
    from keraslab.challenge.submission import read_submission
    from keraslab.toptag import networks
    from keraslab.toptag.inputs import image_input

    out = tmp_path / "result.npy"
    code, err = keraslab("toptag", "predict", "--model", cnn_run, "--data", tiny_jets / "challenge.h5", "--out", out, capsys=capsys)
    assert code == 0, err
    scores = read_submission(out, n_jets=dataset.count_jets(tiny_jets / "challenge.h5"))
    images, _ = dataset.read_images(tiny_jets / "challenge_images.h5")
    trained = networks.build("toptag-cnn")
    trained.load_weights(cnn_run / "model.weights.h5")
    expected = trained.predict(image_input(images), verbose=0)[:, 1]
    np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-6)

    out.write_bytes(b"the user's own file")
    code, err = keraslab("toptag", "predict", "--model", cnn_run, "--data", tiny_jets / "challenge.h5", "--out", out, capsys=capsys)
    assert_one_line_error(code, err, "--overwrite")
    assert out.read_bytes() == b"the user's own file"
    code, _ = keraslab("toptag", "predict", "--model", cnn_run, "--data", tiny_jets / "challenge.h5", "--out", out, "--overwrite", capsys=capsys)
    assert code == 0 and len(np.load(out)) == len(scores)


def test_predict_refuses_a_folder_that_is_not_a_run(tiny_jets, tmp_path, capsys):
    code, err = keraslab("toptag", "predict", "--model", tmp_path, "--data", tiny_jets / "challenge.h5", "--out", tmp_path / "r.npy", capsys=capsys)
    assert_one_line_error(code, err, "not a finished top-tagging run")
    assert not (tmp_path / "r.npy").exists()


def test_missing_data_names_the_layout(tmp_path, capsys):
    code, err = keraslab("run", "toptag-pfn", "--data", tmp_path / "nowhere", "--out", tmp_path / "run", capsys=capsys)
    assert_one_line_error(code, err, "train.h5", "keraslab toptag generate")
    assert not (tmp_path / "run").exists()


def test_data_of_the_wrong_shape_names_the_layout(tiny_jets, tmp_path, capsys):
    wrong = tmp_path / "jets"
    wrong.mkdir()
    for split in dataset.SPLITS:  # images where the constituents should be
        shutil.copy(tiny_jets / f"{split}_images.h5", wrong / f"{split}.h5")
    code, err = keraslab("run", "toptag-dnn", "--data", wrong, "--out", tmp_path / "run", capsys=capsys)
    assert_one_line_error(code, err, "E_0", "train.h5")


def test_compare_end_to_end_with_jax_reuses_runs(tiny_jets, tmp_path):
    """The particle-cloud networks, the baseline, the table and the ROC plot, under JAX (as on the GPU machine)."""
    out = tmp_path / "compare"
    command = [sys.executable, "-m", "keraslab.cli", "toptag", "compare", "--data", str(tiny_jets), "--out", str(out),
               "--models", "toptag-pfn,toptag-particlenet", "--allow-small", "--jets", "120", "--epochs", "1"]
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    first = subprocess.run(command, capture_output=True, text=True, env=env, timeout=400)
    assert first.returncode == 0, first.stderr[-3000:]
    table = (out / "comparison.md").read_text()
    for name in ("toptag-baseline", "toptag-nsub", "toptag-pfn", "toptag-particlenet", "DIFFERENT DATA", "ParticleNet-Lite | 0.9844 | 1262 | 325",
                 "SMALL SAMPLE", " ± "):
        assert name in table
    assert (out / "roc.png").stat().st_size > 10_000
    for name in ("toptag-pfn", "toptag-particlenet"):
        assert json.loads((out / name / "metrics.json").read_text())["backend"] == "jax"
    stamp = (out / "toptag-pfn" / "model.weights.h5").stat().st_mtime_ns

    again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=200)
    assert again.returncode == 0 and "reusing" in again.stdout
    assert (out / "toptag-pfn" / "model.weights.h5").stat().st_mtime_ns == stamp

    other = subprocess.run([*command[:-1], "3"], capture_output=True, text=True, env=env, timeout=200)
    assert other.returncode == 2 and "--retrain" in other.stderr
    assert (out / "toptag-pfn" / "model.weights.h5").stat().st_mtime_ns == stamp


def test_compare_refuses_unknown_models(tiny_jets, tmp_path, capsys):
    code, err = keraslab("toptag", "compare", "--data", tiny_jets, "--out", tmp_path / "c", "--models", "toptag-cnn,resnet", capsys=capsys)
    assert_one_line_error(code, err, "resnet", "toptag-particlenet")
