"""The day-one commands: bad input, divergence, overwrite protection, kill-and-resume, other backend."""

import json
import os
import subprocess
import sys

import pytest

from keraslab.cli import main


def _main(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    return exit_info.value.code, capsys.readouterr().err.strip()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "regression", "--optimizer", "adagrad"], "unknown optimizer 'adagrad'"),
        (["run", "regression", "--activation", "banana"], "unknown activation"),
        (["run", "regression", "--layers", "20,0"], "--layers must be positive"),
        (["run", "regression", "--layers", "twenty"], "comma-separated positive integers"),
        (["run", "regression", "--epochs", "0"], "--epochs"),
        (["run", "classification", "--batch-size", "-3"], "--batch-size"),
        (["run", "regression", "--samples", "0"], "--samples"),
        (["run", "regression", "--learning-rate", "-1"], "learning rate must be positive"),
        (["run", "cnn", "--filters", "8,-8"], "--filters must be positive"),
        (["run", "overtraining", "--variants", "fashion-mlp,huge"], "unknown variant(s) huge"),
        (["run", "fashion-mnist", "--data-dir", "/nonexistent/fmnist"], "does not exist"),
        (["run", "sideways"], "No such command"),
        (["lab", "--parts", "regression,dessert"], "unknown part(s) dessert"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, args, message):
    code, err = _main(capsys, *args, *(["--out", tmp_path / "run"] if args[0] == "run" and len(args) > 2 else []))
    assert code == 2
    assert err.startswith("error: ") and message in err and "\n" not in err


def test_unwritable_out_is_refused(capsys, tmp_path):
    (tmp_path / "file").write_text("")
    code, err = _main(capsys, "run", "regression", "--out", tmp_path / "file" / "run")
    assert code == 2 and "choose a writable --out" in err


def test_diverging_run_stops_at_the_first_nan_naming_the_learning_rate(capsys, tmp_path):
    code, err = _main(capsys, "run", "regression", "--optimizer", "sgd", "--learning-rate", "10", "--samples", "2000",
                      "--out", tmp_path / "run")
    assert code == 2 and "NaN" in err and "learning rate 10" in err and "\n" not in err
    assert not list((tmp_path / "run").glob("*.png"))


def test_a_finished_run_is_not_overwritten_without_asking(capsys, tmp_path):
    out = tmp_path / "run"
    args = ["run", "classification", "--samples", "300", "--epochs", "2", "--out", out]
    main([str(a) for a in args])
    before = (out / "history.json").read_text()
    code, err = _main(capsys, *args)
    assert code == 2 and "--resume" in err and "--overwrite" in err
    assert (out / "history.json").read_text() == before
    main([str(a) for a in args + ["--overwrite"]])
    assert json.loads((out / "metrics.json").read_text())["accuracy_by_hand"] >= 0


def _keraslab(args, env, **kwargs):
    return subprocess.run([sys.executable, "-m", "keraslab.cli", *map(str, args)], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=240, **kwargs)


def test_kill_and_resume_gives_an_unbroken_history(tmp_path):
    out = tmp_path / "run"
    args = ["run", "regression", "--samples", "512", "--epochs", "4", "--out", out]
    killed = _keraslab(args, {"KERASLAB_KILL_AFTER_EPOCH": "2"})
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert len(json.loads((out / "history.json").read_text())["loss"]) == 2
    assert not (out / "metrics.json").exists()
    resumed = _keraslab([*args, "--resume"], {})
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming" in resumed.stdout and "after epoch 2 of 4" in resumed.stdout
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == 4 and all(v == v for v in history["loss"])
    assert json.loads((out / "metrics.json").read_text())["epochs_run"] == 4


TINY_RUNS = {
    "regression": ["--samples", "256", "--epochs", "1"],
    "classification": ["--samples", "256", "--epochs", "2"],
    "fashion-mnist": ["--layers", "16", "--epochs", "1"],
    "overtraining": ["--variants", "fashion-mlp-small,fashion-mlp-dropout", "--epochs", "2"],
    "cnn": ["--filters", "4,4", "--dense", "8", "--epochs", "1"],
}


def test_every_part_runs_under_the_non_default_backend(tmp_path, tiny_fashion):
    """Each part in a fresh process with KERAS_BACKEND set to the backend keraslab would not pick."""
    from keraslab.day1.catalog import PARTS

    env = {**os.environ, "KERASLAB_FASHION_MNIST_DIR": str(tiny_fashion),
           "KERASLAB_FASHION_MNIST_SHA256SUMS": str(tiny_fashion / "SHA256SUMS")}
    others = {part: "tensorflow" if PARTS[part].backend == "jax" else "jax" for part in TINY_RUNS}
    # all at once: each process mostly waits on imports, so two cores run them faster together
    running = {part: subprocess.Popen([sys.executable, "-m", "keraslab.cli", "run", part, *options, "--out", str(tmp_path / part)],
                                      env={**env, "KERAS_BACKEND": others[part]}, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
               for part, options in TINY_RUNS.items()}
    for part, process in running.items():
        stdout, stderr = process.communicate(timeout=240)
        other, out = others[part], tmp_path / part
        assert process.returncode == 0, f"{part}: {stderr[-3000:]}"
        assert f"Keras backend {other} (set by KERAS_BACKEND)" in stdout
        metrics = json.loads((out / "metrics.json").read_text())
        assert metrics["backend"] == other and metrics["epochs_run"] >= 1 and metrics["params"] > 0
        if part in ("fashion-mnist", "cnn"):
            assert 0 <= metrics["test_accuracy"] <= 1 and "SHA256SUMS" in metrics["data_source"]
            assert (out / "predictions.png").exists() and (out / "confusion_matrix.png").exists()
        if part == "overtraining":
            assert set(metrics["variants"]) == {"fashion-mlp-small", "fashion-mlp-dropout"}
            assert (out / "overtraining.png").exists()
