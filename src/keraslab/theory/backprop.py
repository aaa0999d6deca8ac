"""Item 5: back-propagation by hand against automatic differentiation.

Two checks:

* the network y_hat = W2 F(W1 x), F = ReLU, mean squared error: gradients
  written with the chain rule in NumPy equal the backend's autodiff;
* the slides' computational graph b = w1·a, c = w2·a, d = w3·b + w4·c,
  L = f(d): forward values and every partial derivative by reverse mode, by
  hand, against autodiff and against central finite differences.

Relative errors are ``max |hand - other| / max |hand|`` per gradient tensor,
so entries that happen to be near zero do not inflate them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from keras import ops
from matplotlib.figure import Figure

from keraslab.theory.autodiff import backend_gradient
from keraslab.theory.demonstration import Claim, Demonstration

AUTODIFF_TOLERANCE = 1e-6  # relative; autodiff runs in float32
FINITE_DIFFERENCE_TOLERANCE = 1e-6  # relative; central differences in float64
FINITE_DIFFERENCE_STEP = 1e-5


def relative_error(reference: np.ndarray, other: np.ndarray) -> float:
    """max |reference - other| / max |reference| (dimensionless)."""
    reference = np.asarray(reference, dtype=np.float64)
    return float(np.max(np.abs(reference - np.asarray(other))) / np.max(np.abs(reference)))


# --- two-layer network ---------------------------------------------------------------


@dataclass(frozen=True)
class TwoLayerProblem:
    """Inputs (n, d_in), targets (n, d_out) and weights W1 (h, d_in), W2 (d_out, h).

    Stored as float32 values (held in float64 arrays) so the hand computation
    and the float32 autodiff see exactly the same numbers.
    """

    x: np.ndarray
    y: np.ndarray
    w1: np.ndarray
    w2: np.ndarray


def random_problem(n_samples: int = 64, n_inputs: int = 4, n_hidden: int = 8, n_outputs: int = 2,
                   seed: int = 0) -> TwoLayerProblem:
    """A random two-layer problem (standard-normal data, weights scaled by 1/sqrt(fan-in))."""
    rng = np.random.default_rng(seed)

    def float32(*shape: int, scale: float = 1.0) -> np.ndarray:
        return (rng.normal(size=shape) * scale).astype(np.float32).astype(np.float64)

    return TwoLayerProblem(float32(n_samples, n_inputs), float32(n_samples, n_outputs),
                           float32(n_hidden, n_inputs, scale=n_inputs ** -0.5),
                           float32(n_outputs, n_hidden, scale=n_hidden ** -0.5))


def hand_gradients(problem: TwoLayerProblem) -> tuple[float, np.ndarray, np.ndarray]:
    """Loss and (dL/dW1, dL/dW2) by the chain rule, in NumPy float64.

    Forward (rows are samples): Z = X W1^T, H = ReLU(Z), Y_hat = H W2^T,
    L = mean((Y_hat - Y)^2). Backward, each line one link of the chain:
    """
    x, y, w1, w2 = problem.x, problem.y, problem.w1, problem.w2
    z = x @ w1.T
    h = np.maximum(z, 0.0)
    y_hat = h @ w2.T
    loss = float(np.mean((y_hat - y) ** 2))
    d_y_hat = 2.0 * (y_hat - y) / y.size  # dL/dY_hat of the mean of squares
    d_w2 = d_y_hat.T @ h  # Y_hat = H W2^T
    d_h = d_y_hat @ w2
    d_z = d_h * (z > 0)  # ReLU passes the gradient where its input is positive
    d_w1 = d_z.T @ x  # Z = X W1^T
    return loss, d_w1, d_w2


def autodiff_gradients(problem: TwoLayerProblem) -> tuple[np.ndarray, np.ndarray]:
    """(dL/dW1, dL/dW2) of the same loss, written with keras.ops, by the backend's autodiff."""
    x = ops.convert_to_tensor(problem.x.astype(np.float32))
    y = ops.convert_to_tensor(problem.y.astype(np.float32))

    def loss(w1, w2):
        y_hat = ops.matmul(ops.relu(ops.matmul(x, ops.transpose(w1))), ops.transpose(w2))
        return ops.mean(ops.square(y_hat - y))

    d_w1, d_w2 = backend_gradient(loss, [problem.w1, problem.w2])
    return d_w1, d_w2


def network_autodiff_error(problem: TwoLayerProblem) -> float:
    """Largest relative difference between the hand and autodiff gradients of W1 and W2."""
    _, hand_w1, hand_w2 = hand_gradients(problem)
    auto_w1, auto_w2 = autodiff_gradients(problem)
    return max(relative_error(hand_w1, auto_w1), relative_error(hand_w2, auto_w2))


# --- the slides' computational graph --------------------------------------------------

GRAPH_INPUTS = ("a", "w1", "w2", "w3", "w4")
# binary fractions: exact in float32, so the float32 autodiff sees the same numbers as the float64 hand pass
DEFAULT_GRAPH_VALUES = {"a": 1.5, "w1": 0.75, "w2": -0.5, "w3": 2.0, "w4": 0.25}
GRAPH_TARGET = 1.0  # f(d) = (d - target)^2 / 2: the graph ends in a squared-error loss


def graph_forward(a: float, w1: float, w2: float, w3: float, w4: float) -> dict[str, float]:
    """Forward values of every node: b = w1 a, c = w2 a, d = w3 b + w4 c, L = f(d)."""
    b = w1 * a
    c = w2 * a
    d = w3 * b + w4 * c
    return {"a": a, "w1": w1, "w2": w2, "w3": w3, "w4": w4, "b": b, "c": c, "d": d,
            "L": 0.5 * (d - GRAPH_TARGET) ** 2}


def graph_backward(values: dict[str, float]) -> dict[str, float]:
    """dL/d(node) for every node by reverse mode: from L back to the inputs, one local derivative per edge."""
    grad = {"L": 1.0}
    grad["d"] = grad["L"] * (values["d"] - GRAPH_TARGET)  # f'(d)
    grad["w3"] = grad["d"] * values["b"]
    grad["w4"] = grad["d"] * values["c"]
    grad["b"] = grad["d"] * values["w3"]
    grad["c"] = grad["d"] * values["w4"]
    grad["w1"] = grad["b"] * values["a"]
    grad["w2"] = grad["c"] * values["a"]
    grad["a"] = grad["b"] * values["w1"] + grad["c"] * values["w2"]  # a feeds two nodes: the paths add
    return grad


def graph_autodiff(values: dict[str, float]) -> dict[str, float]:
    """dL/d(input) by the backend's autodiff of the same graph written with keras.ops."""

    def loss(a, w1, w2, w3, w4):
        d = w3 * (w1 * a) + w4 * (w2 * a)
        return 0.5 * ops.square(d - GRAPH_TARGET)

    grads = backend_gradient(loss, [np.float64(values[name]) for name in GRAPH_INPUTS])
    return {name: float(g) for name, g in zip(GRAPH_INPUTS, grads)}


def graph_finite_differences(values: dict[str, float], step: float = FINITE_DIFFERENCE_STEP) -> dict[str, float]:
    """dL/d(input) by central differences (L(v + h) - L(v - h)) / 2h in float64."""
    inputs = {name: values[name] for name in GRAPH_INPUTS}
    result = {}
    for name in GRAPH_INPUTS:
        up = graph_forward(**{**inputs, name: inputs[name] + step})["L"]
        down = graph_forward(**{**inputs, name: inputs[name] - step})["L"]
        result[name] = (up - down) / (2 * step)
    return result


@dataclass(frozen=True)
class GraphResult:
    """Every node's value and gradient, and the gradients of the inputs three ways."""

    values: dict[str, float]
    by_hand: dict[str, float]
    autodiff: dict[str, float]
    finite_differences: dict[str, float]

    def error(self, other: dict[str, float]) -> float:
        """Relative error of ``other`` against the hand gradients of the inputs."""
        return relative_error(np.array([self.by_hand[n] for n in GRAPH_INPUTS]),
                              np.array([other[n] for n in GRAPH_INPUTS]))


def computational_graph(values: dict[str, float] | None = None) -> GraphResult:
    """Forward and backward pass of the slides' graph, checked two ways."""
    forward = graph_forward(**(values or DEFAULT_GRAPH_VALUES))
    return GraphResult(forward, graph_backward(forward), graph_autodiff(forward), graph_finite_differences(forward))


def plot(result: GraphResult) -> Figure:
    """The graph with forward values and gradients, and the comparison table."""
    figure = Figure(figsize=(12, 4.2), layout="constrained")
    graph_axis, table_axis = figure.subplots(1, 2, width_ratios=(1.1, 1))
    positions = {"a": (0, 1), "w1": (0.9, 2.2), "w2": (0.9, -0.2), "b": (1.8, 1.6), "c": (1.8, 0.4),
                 "w3": (2.6, 2.4), "w4": (2.6, -0.4), "d": (3.5, 1), "L": (4.6, 1)}
    edges = [("a", "b"), ("w1", "b"), ("a", "c"), ("w2", "c"), ("b", "d"), ("c", "d"), ("w3", "d"),
             ("w4", "d"), ("d", "L")]
    for start, end in edges:
        graph_axis.annotate("", positions[end], positions[start],
                            arrowprops={"arrowstyle": "->", "color": "grey", "shrinkA": 22, "shrinkB": 22})
    for node, (px, py) in positions.items():
        graph_axis.text(px, py, f"{node}\n{result.values[node]:.3g}\n∂L: {result.by_hand[node]:.3g}",
                        ha="center", va="center", fontsize=8,
                        bbox={"boxstyle": "round", "facecolor": "lightyellow" if node in GRAPH_INPUTS else "lightblue"})
    graph_axis.set_xlim(-0.5, 5.1)
    graph_axis.set_ylim(-1, 3)
    graph_axis.axis("off")
    graph_axis.set_title("b = w1·a, c = w2·a, d = w3·b + w4·c, L = (d − 1)²/2\nnode, value, ∂L/∂node")
    rows = [[name, f"{result.values[name]:.4g}", f"{result.by_hand[name]:.8g}", f"{result.autodiff[name]:.8g}",
             f"{result.finite_differences[name]:.8g}"] for name in GRAPH_INPUTS]
    table = table_axis.table(cellText=rows, colLabels=["input", "value", "∂L by hand", "autodiff", "finite diff."],
                             loc="center")
    table.scale(1, 1.6)
    table_axis.axis("off")
    table_axis.set_title(f"relative error: autodiff {result.error(result.autodiff):.1e}, "
                         f"finite differences {result.error(result.finite_differences):.1e}")
    return figure


def demonstrate(seed: int = 0) -> Demonstration:
    """Item 5: hand gradients against autodiff (network and graph) and finite differences (graph)."""
    graph = computational_graph()
    claims = [
        Claim.at_most("autodiff_max_rel_err", network_autodiff_error(random_problem(seed=seed)), AUTODIFF_TOLERANCE,
                      "y_hat = W2 ReLU(W1 x), MSE: chain-rule gradients vs backend autodiff, relative"),
        Claim.at_most("graph_autodiff_max_rel_err", graph.error(graph.autodiff), AUTODIFF_TOLERANCE,
                      "computational graph: reverse mode by hand vs backend autodiff, relative"),
        Claim.at_most("graph_finite_diff_max_rel_err", graph.error(graph.finite_differences),
                      FINITE_DIFFERENCE_TOLERANCE, "computational graph: reverse mode by hand vs central differences"),
    ]
    extras = {"graph_values": graph.values, "graph_gradients": graph.by_hand}
    return Demonstration("backprop", "Back-propagation by hand vs automatic differentiation", claims, plot(graph),
                         extras)
