"""`keraslab doctor`: each check, the verdict, and the exit codes."""

from __future__ import annotations

from keraslab import cli, doctor


def test_python_version_check():
    assert doctor.check_python((3, 11, 4)).ok
    old = doctor.check_python((3, 10, 12))
    assert not old.ok and old.blocking and "3.11" in old.detail


def test_backends_see_a_cpu():
    for backend in doctor.BACKENDS:
        check = doctor.check_backend(backend)
        assert check.ok and "CPU:0" in check.detail, check


def test_a_backend_that_fails_to_start_is_a_failure():
    def broken(backend):
        raise RuntimeError("no libcudart")

    check = doctor.check_backend("jax", broken)
    assert not check.ok and check.blocking and "no libcudart" in check.detail


def test_missing_backend_blocks_only_when_a_part_would_use_it(monkeypatch):
    # as on a GPU machine with JAX and no TensorFlow
    monkeypatch.setattr(doctor, "_version", lambda *names: None if "tensorflow" in names else "0.11")
    monkeypatch.setattr(doctor, "backend_devices", lambda backend: ["GPU:0"])
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    tensorflow = next(c for c in doctor.diagnose() if c.name == "tensorflow")
    assert not tensorflow.ok and not tensorflow.blocking
    monkeypatch.delenv("KERAS_BACKEND")  # each part picks its backend, some pick TensorFlow
    tensorflow = next(c for c in doctor.diagnose() if c.name == "tensorflow")
    assert not tensorflow.ok and tensorflow.blocking


def test_unused_gpu_is_a_warning_with_the_fix():
    seen = {"tensorflow": ["CPU:0"], "jax": ["CPU:0", "GPU:0"]}
    check = doctor.check_gpus(seen, ["GPU 0: NVIDIA H100 (UUID: x)"])
    assert not check.ok and not check.blocking
    assert "tensorflow[and-cuda]" in check.detail and "jax[cuda12]" not in check.detail
    assert doctor.check_gpus({"jax": ["GPU:0"]}, ["GPU 0: NVIDIA H100"]).ok
    assert doctor.check_gpus({"jax": ["CPU:0"]}, []).ok


def test_corrupt_fashion_mnist_fails(tmp_path):
    from keraslab.day1 import fashion_mnist

    for name in fashion_mnist.FILES:
        (tmp_path / name).write_bytes(b"not the real file")
    check = doctor.check_fashion_mnist(tmp_path)
    assert not check.ok and check.blocking and "corrupt" in check.detail


def test_fashion_mnist_not_downloaded_is_a_warning(tmp_path, monkeypatch):
    monkeypatch.delenv("KERASLAB_FASHION_MNIST_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # an empty Keras cache
    check = doctor.check_fashion_mnist()
    assert not check.ok and not check.blocking and "first use" in check.detail


def test_jets_absent_warns_but_broken_fails(tmp_path):
    absent = doctor.check_jets(tmp_path / "jets")
    assert not absent.ok and not absent.blocking and "keraslab toptag generate" in absent.detail
    (tmp_path / "jets").mkdir()
    broken = doctor.check_jets(tmp_path / "jets")
    assert not broken.ok and broken.blocking


def test_ready_jets_pass(tmp_path, monkeypatch):
    from keraslab.toptag import dataset

    monkeypatch.setattr(dataset, "dataset_status", lambda directory: (True, f"{directory}: 320 jets, complete"))
    check = doctor.check_jets(tmp_path)
    assert check.ok and check.detail.endswith("320 jets, complete")


def test_verdict():
    ok = doctor.Check("Python", True, "3.11")
    warning = doctor.Check("jets", False, "absent", blocking=False)
    failure = doctor.Check("Fashion-MNIST", False, "corrupt file")
    assert doctor.verdict([ok, warning]) == (True, "ready: the lab can run (1 warning(s): jets)")
    ready, line = doctor.verdict([ok, warning, failure])
    assert not ready and line == "NOT READY: Fashion-MNIST: corrupt file"


def _run_doctor(capsys, *args: str) -> tuple[int, str]:
    try:
        cli.main(["doctor", *args])
        code = 0
    except SystemExit as exit_info:
        code = exit_info.code
    return code, capsys.readouterr().out


def test_doctor_command_exit_codes(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(doctor, "nvidia_gpus", lambda: [])
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out = _run_doctor(capsys, "--fashion-mnist-dir", str(empty), "--jets", str(tmp_path / "none"))
    assert code == 1
    lines = out.strip().splitlines()
    assert lines[-1].startswith("verdict: NOT READY: Fashion-MNIST:")
    for name in ("Python", "Keras", "tensorflow", "jax", "GPU", "jets"):
        assert any(line.split()[1:2] == [name] for line in lines), name

    monkeypatch.setattr(doctor, "check_fashion_mnist", lambda folder: doctor.Check("Fashion-MNIST", True, "verified"))
    code, out = _run_doctor(capsys, "--jets", str(tmp_path / "none"))
    assert code == 0 and out.strip().splitlines()[-1] == "verdict: ready: the lab can run (1 warning(s): jets)"
