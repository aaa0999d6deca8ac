"""Item 4: universal approximation, the slide's ReLU construction for 2^x.

First layer: 10 ReLU units, weights 1, biases 0, -1, ..., -9, so unit k is
ReLU(x - k): a hinge at x = k. The output adds the hinges with weights w_k and
a bias b, giving a piecewise-linear function with kinks at the integers.
The slide uses w_k = 2^k and no bias; here both are evaluated against 2^x and
the weights that interpolate 2^x exactly at x = 0..10 are derived.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
from matplotlib.figure import Figure

from keraslab.theory.demonstration import Claim, Demonstration

N_HINGES = 10
X_MAX = 10.0
SLIDE_WEIGHTS = 2.0 ** np.arange(N_HINGES)  # 1, 2, 4, ..., 512
SLIDE_BIAS = 0.0
INTERPOLATION_TOLERANCE = 1e-6  # relative, float32 evaluation of integer sums


def hinges(x: np.ndarray) -> np.ndarray:
    """First-layer outputs ReLU(x - k), k = 0..9, as a (len(x), 10) matrix (float64)."""
    return np.maximum(np.asarray(x, dtype=np.float64)[:, None] - np.arange(N_HINGES), 0.0)


def build(weights: np.ndarray, bias: float) -> keras.Model:
    """The two-layer Keras network with the slide's first layer and the given output layer."""
    model = keras.Sequential([
        keras.Input(shape=(1,)),
        keras.layers.Dense(N_HINGES, activation="relu"),
        keras.layers.Dense(1),
    ])
    model.set_weights([
        np.ones((1, N_HINGES), dtype=np.float32),
        -np.arange(N_HINGES, dtype=np.float32),
        np.asarray(weights, dtype=np.float32).reshape(N_HINGES, 1),
        np.array([bias], dtype=np.float32),
    ])
    return model


def evaluate(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """Network output at the points ``x`` (float64 copy of the float32 result)."""
    inputs = np.asarray(x, dtype=np.float32).reshape(-1, 1)
    return np.asarray(keras.ops.convert_to_numpy(model(inputs)), dtype=np.float64).ravel()


def interpolating_weights() -> tuple[np.ndarray, float]:
    """Output weights and bias that make the network equal 2^x at x = 0, 1, ..., 10.

    Eleven conditions b + sum_k w_k ReLU(n - k) = 2^n for eleven unknowns; the
    system is triangular, and its solution is b = 1, w_0 = 1, w_k = 2^(k-1):
    the slope on [k, k+1] is 2^(k+1) - 2^k = 2^k, and w_k is the change of slope.
    """
    integers = np.arange(N_HINGES + 1, dtype=np.float64)
    design = np.column_stack([hinges(integers), np.ones_like(integers)])
    solution = np.linalg.solve(design, 2.0 ** integers)
    return solution[:-1], float(solution[-1])


def max_relative_error(model: keras.Model, x: np.ndarray) -> float:
    """max |f(x) - 2^x| / 2^x over the points ``x``."""
    truth = 2.0 ** np.asarray(x, dtype=np.float64)
    return float(np.max(np.abs(evaluate(model, x) - truth) / truth))


@dataclass(frozen=True)
class ApproximationResult:
    """Both networks' errors against 2^x."""

    corrected_weights: np.ndarray
    corrected_bias: float
    slide_max_rel_err: float  # on a fine grid over [0, 10]
    slide_max_rel_err_at_integers: float
    corrected_max_rel_err: float  # on the fine grid: the piecewise-linear error between integers
    corrected_max_rel_err_at_integers: float


def compare(n_grid: int = 1001) -> ApproximationResult:
    """Evaluate the slide's and the corrected network against 2^x on [0, 10]."""
    grid = np.linspace(0.0, X_MAX, n_grid)
    integers = np.arange(N_HINGES + 1, dtype=np.float64)
    weights, bias = interpolating_weights()
    slide, corrected = build(SLIDE_WEIGHTS, SLIDE_BIAS), build(weights, bias)
    return ApproximationResult(
        weights, bias,
        max_relative_error(slide, grid), max_relative_error(slide, integers),
        max_relative_error(corrected, grid), max_relative_error(corrected, integers),
    )


def plot(result: ApproximationResult, n_grid: int = 1001) -> Figure:
    """2^x, the slide's network and the corrected one, on linear and log scales."""
    grid = np.linspace(0.0, X_MAX, n_grid)
    integers = np.arange(N_HINGES + 1)
    slide = evaluate(build(SLIDE_WEIGHTS, SLIDE_BIAS), grid)
    corrected = evaluate(build(result.corrected_weights, result.corrected_bias), grid)
    figure = Figure(figsize=(11, 4), layout="constrained")
    for axis, scale in zip(figure.subplots(1, 2), ("linear", "log")):
        axis.plot(grid, 2.0 ** grid, color="black", lw=2.5, label="2^x")
        axis.plot(grid, slide, "--", label=f"slide: w_k = 2^k, b = 0 (max rel. err {result.slide_max_rel_err:.2f})")
        axis.plot(grid, corrected, ":", lw=2,
                  label=f"corrected: w_0 = 1, w_k = 2^(k-1), b = 1 (max rel. err {result.corrected_max_rel_err:.3f})")
        axis.scatter(integers, 2.0 ** integers, color="black", zorder=3, s=12)
        axis.set_yscale(scale)
        axis.set_xlabel("x")
        axis.set_ylabel("f(x)")
    figure.axes[0].legend(fontsize=8)
    figure.suptitle("Ten ReLU hinges approximating 2^x on [0, 10]")
    return figure


def demonstrate() -> Demonstration:
    """Item 4: the corrected network interpolates 2^x at the integers."""
    result = compare()
    claims = [
        Claim.at_most("universal_approx_max_rel_err_at_integers", result.corrected_max_rel_err_at_integers,
                      INTERPOLATION_TOLERANCE, "corrected network: max |f(n) - 2^n| / 2^n for n = 0..10"),
        Claim.at_least("universal_approx_slide_max_rel_err", result.slide_max_rel_err, 0.5,
                       "the slide's weights as written: max relative error on [0, 10] (they do not fit 2^x)"),
    ]
    extras = {
        "universal_approx_slide_max_rel_err_at_integers": result.slide_max_rel_err_at_integers,
        "universal_approx_corrected_max_rel_err_between_integers": result.corrected_max_rel_err,
        "universal_approx_corrected_weights": result.corrected_weights.round(9).tolist(),
        "universal_approx_corrected_bias": round(result.corrected_bias, 9),
    }
    return Demonstration("universal_approximation", "Universal approximation of 2^x", claims, plot(result), extras)
