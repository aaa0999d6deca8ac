"""Item 2: "What would happen if no activation function is used?"

Three Dense layers without activations compute one matrix, A = W V U (the
slide: 2x3 · 3x3 · 3x3 -> 2x3). With ReLU between them no single matrix fits.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
from matplotlib.figure import Figure

from keraslab.theory.demonstration import Claim, Demonstration

LAYER_WIDTHS = (3, 3, 2)  # U: 3x3, V: 3x3, W: 2x3 acting on 3-vectors
COLLAPSE_TOLERANCE = 1e-5  # float32 round-off of three small products
RELU_MIN_RELATIVE_RESIDUAL = 0.05  # "clearly non-zero"


def build_network(activation: str | None, seed: int = 0, n_inputs: int = 3) -> keras.Model:
    """The slide's network: Dense 3 -> 3 -> 2 without biases, ``activation`` between layers.

    The last layer is always linear; ``activation=None`` gives the purely linear network.
    """
    # Dense's default initialiser, made reproducible; one seed per layer, because an
    # initialiser with a fixed seed returns the same matrix every time it is called
    layer_seeds = np.random.default_rng(seed).integers(2**31, size=len(LAYER_WIDTHS))
    layers = [keras.Input(shape=(n_inputs,))]
    for i, (width, layer_seed) in enumerate(zip(LAYER_WIDTHS, layer_seeds)):
        last = i == len(LAYER_WIDTHS) - 1
        layers.append(keras.layers.Dense(width, activation=None if last else activation, use_bias=False,
                                         kernel_initializer=keras.initializers.GlorotUniform(seed=int(layer_seed))))
    return keras.Sequential(layers)


def collapse(model: keras.Model) -> np.ndarray:
    """The single matrix A = W V U of a linear network (output = A @ input).

    Keras stores kernels as (inputs, outputs) and computes x @ K, so each layer's
    matrix in the slide's notation is the transposed kernel.
    """
    matrices = [np.asarray(layer.kernel.numpy(), dtype=np.float64).T for layer in model.layers]
    product = np.eye(matrices[0].shape[1])
    for matrix in matrices:  # U first, then V, then W: A = W @ V @ U
        product = matrix @ product
    return product


@dataclass(frozen=True)
class CollapseResult:
    """The collapsed matrix and how well one matrix reproduces each network."""

    matrix: np.ndarray  # A, shape (2, 3)
    inputs: np.ndarray  # random inputs, (n, 3)
    linear_outputs: np.ndarray  # network without activations, (n, 2)
    relu_outputs: np.ndarray  # same weights with ReLU in between, (n, 2)
    relu_best_matrix: np.ndarray  # least-squares single matrix for the ReLU network
    linear_max_abs_err: float  # max |network(x) - A x|
    relu_relative_residual: float  # ||network(x) - B x|| / ||network(x)|| for the best B


def compare(n_samples: int = 1000, seed: int = 0) -> CollapseResult:
    """Build both networks with the same weights and compare them with one matrix."""
    linear = build_network(None, seed)
    relu = build_network("relu", seed)
    relu.set_weights(linear.get_weights())
    inputs = np.random.default_rng(seed).normal(size=(n_samples, 3)).astype(np.float32)
    matrix = collapse(linear)
    linear_out = np.asarray(keras.ops.convert_to_numpy(linear(inputs)), dtype=np.float64)
    relu_out = np.asarray(keras.ops.convert_to_numpy(relu(inputs)), dtype=np.float64)
    best, *_ = np.linalg.lstsq(inputs.astype(np.float64), relu_out, rcond=None)  # relu_out ≈ inputs @ best
    residual = np.linalg.norm(relu_out - inputs @ best) / np.linalg.norm(relu_out)
    return CollapseResult(matrix, inputs, linear_out, relu_out, best.T,
                          float(np.max(np.abs(linear_out - inputs @ matrix.T))), float(residual))


def plot(result: CollapseResult) -> Figure:
    """Network output against the single-matrix prediction, without and with ReLU."""
    figure = Figure(figsize=(9, 4), layout="constrained")
    left, right = figure.subplots(1, 2)
    linear_fit = result.inputs @ result.matrix.T
    relu_fit = result.inputs @ result.relu_best_matrix.T
    for axis, network, fit, title in (
        (left, result.linear_outputs, linear_fit, f"no activation: A = W V U\nmax error {result.linear_max_abs_err:.1e}"),
        (right, result.relu_outputs, relu_fit,
         f"ReLU in between: best single matrix\nrelative residual {result.relu_relative_residual:.2f}"),
    ):
        axis.scatter(fit.ravel(), network.ravel(), s=4, alpha=0.5)
        low, high = float(network.min()), float(network.max())
        axis.plot([low, high], [low, high], color="black", lw=0.8, label="y = x")
        axis.set_xlabel("single matrix × input")
        axis.set_ylabel("network output")
        axis.set_title(title)
        axis.legend()
    return figure


def demonstrate(n_samples: int = 1000, seed: int = 0) -> Demonstration:
    """Item 2 with its two claims."""
    result = compare(n_samples, seed)
    claims = [
        Claim.at_most("linear_collapse_max_abs_err", result.linear_max_abs_err, COLLAPSE_TOLERANCE,
                      "max |Dense(Dense(Dense(x))) - (W V U) x| on random inputs"),
        Claim.at_least("relu_no_single_matrix_rel_residual", result.relu_relative_residual,
                       RELU_MIN_RELATIVE_RESIDUAL, "relative least-squares residual of one matrix for the ReLU network"),
    ]
    extras = {"collapsed_matrix_A": result.matrix.round(6).tolist()}
    return Demonstration("linear_collapse", "No activation: three layers are one matrix", claims, plot(result), extras)
