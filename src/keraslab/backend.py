"""Choosing the Keras backend for a part, before Keras is imported.

Measured on a 2-core CPU (see docs/day1.md): JAX runs the dense networks of day one
about 2x faster than TensorFlow, while TensorFlow runs the small CNN about 5x faster
than JAX. ``select(preferred)`` therefore picks the faster backend for a part, unless
the user has set ``KERAS_BACKEND``, which always wins.
"""

from __future__ import annotations

import os
import sys

from keraslab.errors import UserError

BACKENDS = ("tensorflow", "jax")
# The faster backend on a CPU for each day-one part
PREFERRED = {
    "regression": "jax",
    "classification": "jax",
    "fashion-mnist": "jax",
    "overtraining": "jax",
    "cnn": "tensorflow",
}


def select(preferred: str) -> tuple[str, str]:
    """Make Keras use ``preferred`` unless ``KERAS_BACKEND`` says otherwise.

    Must run before the first ``import keras``. Returns ``(backend, reason)``; the
    reason is a short phrase for the run's output.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    chosen = os.environ.get("KERAS_BACKEND")
    if chosen:
        if chosen not in BACKENDS:
            raise UserError(f"KERAS_BACKEND={chosen!r} is not supported by keraslab; use one of: {', '.join(BACKENDS)}")
        return chosen, "set by KERAS_BACKEND"
    if "keras" in sys.modules:  # too late to choose: report what Keras runs on
        import keras

        return keras.backend.backend(), "Keras was already imported"
    os.environ["KERAS_BACKEND"] = preferred
    return preferred, "keraslab's faster choice for this part on CPU; set KERAS_BACKEND to override"


def current() -> str:
    """The backend Keras runs on (imports Keras)."""
    import keras

    return keras.backend.backend()
