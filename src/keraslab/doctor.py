"""``keraslab doctor``: can this machine run the lab? Fast: it imports, lists and checks, never trains.

It reports the Python, Keras and backend versions, the devices each backend
sees (CPU, GPUs: as on the GPU slide), NVIDIA GPUs that no backend uses, the
Fashion-MNIST files (present and verified) and the jets folder, then a one-line
verdict. Exit code 0 when the lab can run, 1 otherwise, with the reason.

A check either *fails* (the lab cannot run: fix it first) or *warns* (the lab
runs, but something will be slower or needs a step first, such as generating
the jets or downloading Fashion-MNIST on first use).
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from keraslab.backend import BACKENDS

MIN_PYTHON = (3, 11)
BACKEND_PACKAGES = {"tensorflow": ("tensorflow-cpu", "tensorflow"), "jax": ("jax",)}
GPU_BUILDS = {"tensorflow": "pip install 'tensorflow[and-cuda]'", "jax": "pip install 'jax[cuda12]'"}


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str
    ok: bool
    detail: str
    blocking: bool = True  # a failed blocking check means the lab cannot run

    @property
    def status(self) -> str:
        return "ok" if self.ok else ("FAIL" if self.blocking else "warn")


def _version(*distributions: str) -> str | None:
    for distribution in distributions:
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def check_python(version_info: tuple[int, ...] = tuple(sys.version_info)) -> Check:
    """Python is new enough for keraslab."""
    version = ".".join(map(str, version_info[:3]))
    ok = tuple(version_info[:2]) >= MIN_PYTHON
    need = ".".join(map(str, MIN_PYTHON))
    return Check("Python", ok, f"{version} ({sys.executable})" if ok else
                 f"{version} is too old: keraslab needs Python {need} or newer (make PYTHON=python{need})")


def check_keras() -> Check:
    """Keras 3 imports; which backend it uses now."""
    try:
        import keras
    except Exception as err:  # a broken install: say what, not a traceback
        return Check("Keras", False, f"cannot import Keras ({err}); reinstall with pip install -e .")
    if not keras.__version__.startswith("3."):
        return Check("Keras", False, f"Keras {keras.__version__} found; keraslab needs Keras 3 (pip install 'keras>=3.8')")
    backend = keras.backend.backend()
    source = "set by KERAS_BACKEND" if os.environ.get("KERAS_BACKEND") else \
        "Keras' default; each lab part picks its faster backend unless KERAS_BACKEND is set"
    ok = backend in BACKENDS
    return Check("Keras", ok, f"{keras.__version__}, backend {backend} ({source})" if ok else
                 f"{keras.__version__}, backend {backend!r} is not supported by keraslab: set KERAS_BACKEND to "
                 f"{' or '.join(BACKENDS)}")


def backend_devices(backend: str) -> list[str]:
    """Devices the backend sees, as "CPU:0", "GPU:0", ... (imports the backend library)."""
    if backend == "tensorflow":
        import tensorflow as tf

        return [device.name.removeprefix("/physical_device:") for device in tf.config.list_physical_devices()]
    import jax

    return [f"{device.platform.upper()}:{device.id}" for device in jax.devices()]


def check_backend(backend: str, list_devices: Callable[[str], list[str]] = backend_devices,
                  required: bool = True) -> Check:
    """The backend library is installed, imports, and sees at least one device.

    A backend that is not ``required`` (KERAS_BACKEND names the other one, so every part
    runs on that) is only a warning when it is missing.
    """
    version = _version(*BACKEND_PACKAGES[backend])
    if version is None:
        return Check(backend, False, "not installed; reinstall keraslab (pip install -e .)", blocking=required)
    try:
        devices = list_devices(backend)
    except Exception as err:  # a broken install: one line, not a traceback
        return Check(backend, False, f"{version} does not start ({type(err).__name__}: {err}); reinstall it")
    if not devices:
        return Check(backend, False, f"{version} sees no device at all; reinstall it")
    return Check(backend, True, f"{version}, devices: {', '.join(devices)}")


def nvidia_gpus() -> list[str]:
    """NVIDIA GPUs on this machine according to ``nvidia-smi -L`` (empty without a driver)."""
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20, check=True)
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in listing.stdout.splitlines() if line.startswith("GPU ")]


def check_gpus(seen: dict[str, list[str]], machine_gpus: list[str]) -> Check:
    """Warn when the machine has GPUs that a backend does not use (a CPU-only build)."""
    blind = [backend for backend, devices in seen.items() if not any(d.startswith("GPU") for d in devices)]
    if not machine_gpus:
        return Check("GPU", True, "none on this machine: the lab runs on the CPU (day two is slower)")
    if not blind:
        return Check("GPU", True, f"{len(machine_gpus)} NVIDIA GPU(s), used by {', '.join(seen)}")
    fixes = "; ".join(GPU_BUILDS[backend] for backend in blind)
    return Check("GPU", False, f"{len(machine_gpus)} NVIDIA GPU(s) ({machine_gpus[0]}), but {', '.join(blind)} "
                 f"see only the CPU (CPU-only build installed): {fixes}", blocking=False)


def check_fashion_mnist(data_dir: Path | None = None) -> Check:
    """Fashion-MNIST files present and verified (offline folder or Keras' cache)."""
    from keraslab.day1 import fashion_mnist

    ok, message = fashion_mnist.cache_status(data_dir)
    if ok:
        return Check("Fashion-MNIST", True, message)
    folder = fashion_mnist.data_folder(data_dir)
    cache = fashion_mnist.keras_cache_dir()
    if folder is None and not any((cache / name).exists() for name in fashion_mnist.FILES):
        # nothing chosen, nothing cached: Keras downloads it on first use
        return Check("Fashion-MNIST", False, f"not downloaded yet: Keras fetches it into {cache} on first use "
                     f"(needs internet), or set {fashion_mnist.ENV_VAR} to a folder with the four files",
                     blocking=False)
    return Check("Fashion-MNIST", False, message)  # a chosen or cached copy that is missing files or corrupt


def check_jets(directory: Path | None = None) -> Check:
    """The top-tagging jets folder: absent is a to-do (generate it), present but broken is a failure."""
    from keraslab.toptag.dataset import dataset_status, default_jets_dir

    directory = Path(directory) if directory is not None else default_jets_dir()
    ok, message = dataset_status(directory)
    if ok:
        return Check("jets", True, message)
    return Check("jets", False, message, blocking=directory.exists())


def diagnose(fashion_mnist_dir: Path | None = None, jets_dir: Path | None = None) -> list[Check]:
    """Every check, in report order."""
    checks = [check_python(), check_keras()]
    seen: dict[str, list[str]] = {}
    chosen = os.environ.get("KERAS_BACKEND")  # set: every part runs on it; unset: each part picks its own
    for backend in BACKENDS:
        check = check_backend(backend, lambda name: seen.setdefault(name, backend_devices(name)),
                              required=chosen in (None, backend))
        checks.append(check)
    checks.append(check_gpus(seen, nvidia_gpus()))
    checks.append(check_fashion_mnist(fashion_mnist_dir))
    checks.append(check_jets(jets_dir))
    return checks


def verdict(checks: list[Check]) -> tuple[bool, str]:
    """``(lab can run, one-line verdict)``."""
    failures = [c for c in checks if not c.ok and c.blocking]
    warnings = [c for c in checks if not c.ok and not c.blocking]
    if failures:
        return False, "NOT READY: " + "; ".join(f"{c.name}: {c.detail}" for c in failures)
    note = f" ({len(warnings)} warning(s): {', '.join(c.name for c in warnings)})" if warnings else ""
    return True, f"ready: the lab can run{note}"


def register(groups) -> None:
    """Add the top-level ``keraslab doctor`` command."""

    @groups.app.command("doctor")
    def doctor(
        fashion_mnist_dir: Annotated[Path | None, typer.Option(
            "--fashion-mnist-dir", "--data-dir", help="Folder with the four Fashion-MNIST files (default: $KERASLAB_FASHION_MNIST_DIR, "
            "else Keras' cache).")] = None,
        jets: Annotated[Path | None, typer.Option(
            "--jets", help="Jets folder to check (default: $KERASLAB_JETS_DIR, else data/jets).")] = None,
    ) -> None:
        """Check this machine for the lab: versions, devices, data; exit 0 when the lab can run, else 1."""
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
        print(f"keraslab {_version('keraslab') or '(not installed)'}")
        checks = diagnose(fashion_mnist_dir, jets)
        width = max(len(c.name) for c in checks)
        for check in checks:
            print(f"  {check.status:<4}  {check.name:<{width}}  {check.detail}")
        ready, line = verdict(checks)
        print(f"verdict: {line}")
        if not ready:
            sys.exit(1)  # not typer.Exit: keraslab.cli.main runs typer non-standalone, which drops its code
