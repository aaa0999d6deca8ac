"""Choosing the Keras backend for a part, before Keras is imported.

Each part names the backend that trains it faster on a CPU (``catalog.Part.backend``
for day one, ``ModelSpec.backend`` for day two; measured in docs/day1.md and
docs/toptag.md). ``select(preferred)`` makes Keras use it unless the user has set
``KERAS_BACKEND``, which always wins. Under JAX it also turns on JAX's persistent
compilation cache (``~/.cache/keraslab/jax``, or ``$JAX_COMPILATION_CACHE_DIR``): a
rerun of the same network skips XLA compilation.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from keraslab.errors import UserError, choose

BACKENDS = ("tensorflow", "jax")


def _jax_compilation_cache() -> None:
    """Keep JAX's compiled train steps on disk, so the next run of the same network
    skips XLA compilation (most of the fit time of the small day-one networks)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "keraslab" / "jax"
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(cache))
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")


def select(preferred: str) -> tuple[str, str]:
    """Make Keras use ``preferred`` unless ``KERAS_BACKEND`` says otherwise.

    Must run before the first ``import keras``. Where ``preferred`` is not installed
    the other backend is used. Returns ``(backend, reason)``; the reason is a short
    phrase for the run's output.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    chosen = os.environ.get("KERAS_BACKEND")
    if chosen:
        if chosen not in BACKENDS:
            raise UserError(f"KERAS_BACKEND={chosen!r} is not supported by keraslab; use one of: {', '.join(BACKENDS)}")
        if chosen == "jax":
            _jax_compilation_cache()
        return chosen, "set by KERAS_BACKEND"
    if "keras" in sys.modules:  # too late to choose: report what Keras runs on
        import keras

        return keras.backend.backend(), "Keras was already imported"
    reason = "keraslab's faster choice for this part on CPU; set KERAS_BACKEND to override"
    if importlib.util.find_spec(preferred) is None:  # e.g. no TensorFlow wheel for macOS on Intel
        missing, preferred = preferred, next(backend for backend in BACKENDS if backend != preferred)
        reason = f"{missing} is not installed here"
    os.environ["KERAS_BACKEND"] = preferred
    if preferred == "jax":
        _jax_compilation_cache()
    return preferred, reason


def current() -> str:
    """The backend Keras runs on (imports Keras)."""
    import keras

    return keras.backend.backend()


def cpu_has_bfloat16() -> bool:
    """Does this CPU compute in bfloat16 natively (AVX512-BF16 or AMX)? Linux only; elsewhere False."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def mixed_precision(precision: str) -> str:
    """Set Keras' dtype policy for the models built next; return the policy in use.

    ``precision`` is "float32", "mixed_bfloat16" (weights in float32, arithmetic in
    bfloat16) or "auto": mixed_bfloat16 under TensorFlow where the CPU computes bfloat16
    natively (TensorFlow's oneDNN kernels; the Fashion-MNIST CNN trains faster, see
    docs/day1.md), float32 elsewhere (emulated bfloat16 is slower).
    """
    import keras

    choose("precision", precision, ("auto", "float32", "mixed_bfloat16"))
    if precision == "auto":
        native = keras.backend.backend() == "tensorflow" and cpu_has_bfloat16()
        precision = "mixed_bfloat16" if native else "float32"
    keras.mixed_precision.set_dtype_policy(precision)
    return precision


def data_parallel(devices: str | None) -> int:
    """Train data-parallel on ``devices`` ("all" or a count) through ``keras.distribution``; return the count.

    JAX backend only. Each batch is split evenly across the devices, so the results
    match one device's for the same global batch size. On a CPU,
    ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` makes N virtual devices.
    """
    if devices in (None, "1"):
        return 1
    import keras

    if keras.backend.backend() != "jax":
        raise UserError(f"--devices needs the JAX backend, not {keras.backend.backend()}: set KERAS_BACKEND=jax")
    available = keras.distribution.list_devices()
    if devices == "all":
        count = len(available)
    elif devices.isdigit() and int(devices) > 0:
        count = int(devices)
    else:
        raise UserError(f"--devices must be a positive number or all, got {devices!r}")
    if count > len(available):
        raise UserError(f"--devices {count}: this machine has {len(available)} ({', '.join(available)}); on a CPU, "
                        f"XLA_FLAGS=--xla_force_host_platform_device_count={count} makes {count} virtual devices")
    if count > 1:
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=available[:count]))
    return count


def device_count() -> int:
    """Devices the current ``keras.distribution`` trains on (1 without one)."""
    import keras

    distribution = keras.distribution.distribution()
    return int(distribution.device_mesh.devices.size) if distribution is not None else 1
