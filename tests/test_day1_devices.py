"""keraslab run PART --devices N: data-parallel training through keras.distribution (JAX), on virtual CPU devices."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

VIRTUAL_DEVICES = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2", "KERAS_BACKEND": "jax"}


def _run(out, *options: str, env: dict | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "keraslab.cli", "run", "regression", "--samples", "2000", "--epochs", "3",
               "--optimizer", "adam", "--out", str(out), *options]
    return subprocess.run(command, capture_output=True, text=True, timeout=600,
                          env={**os.environ, **VIRTUAL_DEVICES, **(env or {})})


def test_two_devices_train_as_one_for_the_same_global_batch(tmp_path):
    histories = {}
    for devices in ("1", "2"):
        done = _run(tmp_path / devices, "--devices", devices)
        assert done.returncode == 0, done.stderr[-2000:]
        histories[devices] = json.loads((tmp_path / devices / "history.json").read_text())["loss"]
        assert json.loads((tmp_path / devices / "metrics.json").read_text())["devices"] == int(devices)
    assert "data-parallel on 2 devices" in done.stdout
    assert histories["2"] == pytest.approx(histories["1"], rel=1e-4)


@pytest.mark.parametrize("options, env, message", [
    (["--devices", "3"], None, "--devices 3: this machine has 2"),
    (["--devices", "two"], None, "--devices must be a positive number or all"),
    (["--devices", "2"], {"KERAS_BACKEND": "tensorflow"}, "--devices needs the JAX backend"),
    (["--devices", "2", "--batch-size", "33"], None, "batch size 33 must be a multiple of the 2 devices"),
])
def test_bad_devices_are_one_line_and_exit_2(tmp_path, options, env, message):
    done = _run(tmp_path / "run", *options, env=env)
    assert done.returncode == 2
    error = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and message in error[0], done.stderr[-2000:]
    assert "Traceback" not in done.stderr
