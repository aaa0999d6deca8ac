"""Item 1 of the back-up pages: activation functions and their derivatives.

The values come from ``keras.activations`` (what a Dense layer applies); the
derivatives are written by hand, because that is the point of the page, and
checked against the backend's automatic differentiation.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
from keras import ops
from matplotlib.figure import Figure

from keraslab.theory.autodiff import backend_gradient
from keraslab.theory.demonstration import Claim, Demonstration

# The softmax page shows one output of a 3-class softmax with logits (x, 0, 0):
# with two classes it would be exactly the logistic function.
SOFTMAX_OTHER_LOGITS = (0.0, 0.0)
DERIVATIVE_TOLERANCE = 1e-5  # float32 autodiff against float64 formulas


def _softmax_first(x):
    """First softmax output for logits (x, 0, 0), elementwise in x."""
    logits = ops.stack([x] + [ops.zeros_like(x) + other for other in SOFTMAX_OTHER_LOGITS], axis=-1)
    return keras.activations.softmax(logits, axis=-1)[..., 0]


# name -> Keras function of a tensor x (elementwise)
ACTIVATIONS: dict[str, Callable] = {
    "tanh": keras.activations.tanh,
    "relu": keras.activations.relu,
    "logistic (sigmoid)": keras.activations.sigmoid,
    "softmax (x, 0, 0)[0]": _softmax_first,
}


def derivative(name: str, x: np.ndarray) -> np.ndarray:
    """Derivative of activation ``name`` at ``x``, by hand (float64, dimensionless)."""
    x = np.asarray(x, dtype=np.float64)
    if name == "tanh":
        return 1.0 - np.tanh(x) ** 2
    if name == "relu":
        return (x > 0).astype(np.float64)  # 0 at the kink, as the frameworks choose
    if name == "logistic (sigmoid)":
        s = 1.0 / (1.0 + np.exp(-x))
        return s * (1.0 - s)
    if name == "softmax (x, 0, 0)[0]":
        # d s_i / d z_i = s_i (1 - s_i): the diagonal of the softmax Jacobian
        s = np.exp(x) / (np.exp(x) + sum(np.exp(other) for other in SOFTMAX_OTHER_LOGITS))
        return s * (1.0 - s)
    raise KeyError(f"unknown activation {name!r}; choose from {list(ACTIVATIONS)}")


def values(name: str, x: np.ndarray) -> np.ndarray:
    """Activation ``name`` at ``x`` as Keras computes it."""
    tensor = ops.convert_to_tensor(np.asarray(x, dtype=keras.config.floatx()))
    return np.asarray(ops.convert_to_numpy(ACTIVATIONS[name](tensor)), dtype=np.float64)


def autodiff_derivative(name: str, x: np.ndarray) -> np.ndarray:
    """Derivative of activation ``name`` at ``x`` by the backend's autodiff.

    The functions act elementwise, so the gradient of the sum is the derivative.
    """
    (grad,) = backend_gradient(lambda t: ops.sum(ACTIVATIONS[name](t)), [x])
    return grad


def plot(x: np.ndarray) -> Figure:
    """One panel per activation: the function and its derivative."""
    figure = Figure(figsize=(12, 3.2), layout="constrained")
    for axis, name in zip(figure.subplots(1, len(ACTIVATIONS)), ACTIVATIONS):
        axis.plot(x, values(name, x), label="f(x)")
        axis.plot(x, derivative(name, x), "--", label="f'(x)")
        axis.axhline(0, color="grey", lw=0.5)
        axis.set_title(name)
        axis.set_xlabel("x")
    figure.axes[0].legend()
    return figure


def demonstrate(x: np.ndarray | None = None) -> Demonstration:
    """Plot the activations and check every hand derivative against autodiff.

    ``x``: the input grid; by default 400 points in [-4, 4] (no point exactly on
    ReLU's kink, where the derivative is a convention).
    """
    x = np.linspace(-4.0, 4.0, 400) if x is None else np.asarray(x, dtype=np.float64)
    error = max(float(np.max(np.abs(derivative(n, x) - autodiff_derivative(n, x)))) for n in ACTIVATIONS)
    claims = [Claim.at_most("activation_derivative_max_abs_err", error, DERIVATIVE_TOLERANCE,
                            "max |hand derivative - autodiff| over tanh, ReLU, logistic, softmax")]
    return Demonstration("activations", "Activation functions and their derivatives", claims, plot(x))
