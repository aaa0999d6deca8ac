"""The slides' toy data: random 10-vectors and a hidden non-linear target.

Each sample is a vector x of ``n_features`` numbers drawn uniformly in [0, 1);
the regression target is ``y = sin(sum_k x_k^2)`` (dimensionless, in [-1, 1]),
and the binary label is 1 where that sine is >= 0, else 0. Arrays are float32,
the dtype Keras trains in, and the same seed always gives the same data.
"""

from __future__ import annotations

import numpy as np

from keraslab.errors import UserError


def _check_sizes(n_samples: int, n_features: int) -> None:
    if n_samples <= 0:
        raise UserError(f"the sample size must be positive, got {n_samples}; use e.g. --samples 10000")
    if n_features <= 0:
        raise UserError(f"the number of features must be positive, got {n_features}")


def make_regression(n_samples: int = 10_000, n_features: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(x, y)``: x of shape (n_samples, n_features) in [0, 1), y = sin(sum x^2) of shape (n_samples,)."""
    _check_sizes(n_samples, n_features)
    rng = np.random.default_rng(seed)
    x = rng.random((n_samples, n_features), dtype=np.float32)
    y = np.sin(np.sum(x**2, axis=1)).astype(np.float32)
    return x, y


def make_binary(n_samples: int = 10_000, n_features: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(x, label)``: the regression inputs with label = 1.0 where sin(sum x^2) >= 0, else 0.0."""
    x, y = make_regression(n_samples, n_features, seed)
    return x, (y >= 0).astype(np.float32)


def hidden_variable(x: np.ndarray) -> np.ndarray:
    """The sum of squares ``sum_k x_k^2`` that the target really depends on (the "hidden structure")."""
    return np.sum(np.asarray(x) ** 2, axis=1)
