"""Item 3: ReLU networks as logic gates, with weights set by hand.

Each gate is a Keras network Dense(ReLU) -> Dense(linear) whose weights are
small integers or halves, so float32 computes the truth table exactly.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
from matplotlib.figure import Figure

from keraslab.theory.demonstration import Claim, Demonstration


@dataclass(frozen=True)
class Gate:
    """Hand-set weights of a ReLU gate, in Keras' (inputs, outputs) kernel layout."""

    hidden_kernel: tuple[tuple[float, ...], ...]
    hidden_bias: tuple[float, ...]
    output_kernel: tuple[float, ...]  # one weight per hidden unit
    truth: Callable[..., int]  # the Boolean function on 0/1 integers
    how: str  # the construction in words

    @property
    def n_inputs(self) -> int:
        return len(self.hidden_kernel)


GATES: dict[str, Gate] = {
    # The slide's AND: weights 1/2 and threshold 1/2 give 1/2 for (1, 1); the readout doubles it.
    "AND": Gate(((0.5,), (0.5,)), (-0.5,), (2.0,), lambda a, b: a & b,
                "2·ReLU(x1/2 + x2/2 − 1/2)"),
    # The slide's OR has weights 1; ReLU(x1 + x2) is 2 for (1, 1), so a second unit clips it to 1.
    "OR": Gate(((1.0, 1.0), (1.0, 1.0)), (0.0, -1.0), (1.0, -1.0), lambda a, b: a | b,
               "ReLU(x1 + x2) − ReLU(x1 + x2 − 1)"),
    # NOT through a negative weight.
    "NOT": Gate(((-1.0,),), (1.0,), (1.0,), lambda a: 1 - a, "ReLU(1 − x)"),
    # XOR is not linearly separable: it needs the hidden layer's second unit.
    "XOR": Gate(((1.0, 1.0), (1.0, 1.0)), (0.0, -1.0), (1.0, -2.0), lambda a, b: a ^ b,
                "ReLU(x1 + x2) − 2·ReLU(x1 + x2 − 1)"),
}


def build(gate: Gate) -> keras.Model:
    """The gate as a Keras network with its hand-set weights."""
    hidden = len(gate.hidden_bias)
    model = keras.Sequential([
        keras.Input(shape=(gate.n_inputs,)),
        keras.layers.Dense(hidden, activation="relu"),
        keras.layers.Dense(1),
    ])
    model.set_weights([
        np.array(gate.hidden_kernel, dtype=np.float32),
        np.array(gate.hidden_bias, dtype=np.float32),
        np.array(gate.output_kernel, dtype=np.float32).reshape(hidden, 1),
        np.zeros(1, dtype=np.float32),
    ])
    return model


def evaluate(model: keras.Model, inputs: np.ndarray) -> np.ndarray:
    """The network's outputs for a small batch (eager call: no compiled predict loop)."""
    return np.asarray(keras.ops.convert_to_numpy(model(inputs.astype(np.float32))), dtype=np.float64)


def truth_table(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All 0/1 inputs of gate ``name``, the network's outputs and the expected outputs."""
    gate = GATES[name]
    inputs = np.array(list(itertools.product((0, 1), repeat=gate.n_inputs)), dtype=np.int64)
    outputs = evaluate(build(gate), inputs).ravel()
    expected = np.array([gate.truth(*row) for row in inputs], dtype=np.float64)
    return inputs, outputs, expected


def all_exact() -> bool:
    """True when every gate reproduces its truth table exactly (no tolerance)."""
    return all(np.array_equal(outputs, expected) for _, outputs, expected in map(truth_table, GATES))


def plot(resolution: int = 101) -> Figure:
    """Each gate's output around [0, 1] (NOT) or [0, 1]^2, with its truth table marked."""
    figure = Figure(figsize=(13, 3.6), layout="constrained")
    low, high = -0.2, 1.2
    grid = np.linspace(low, high, resolution, dtype=np.float32)
    for axis, (name, gate) in zip(figure.subplots(1, len(GATES)), GATES.items()):
        model = build(gate)
        inputs, outputs, _ = truth_table(name)
        if gate.n_inputs == 1:
            axis.plot(grid, evaluate(model, grid[:, None]).ravel())
            axis.scatter(inputs.ravel(), outputs, color="black", zorder=3)
            axis.set_xlabel("x")
        else:
            x1, x2 = np.meshgrid(grid, grid)
            surface = evaluate(model, np.column_stack([x1.ravel(), x2.ravel()])).reshape(x1.shape)
            image = axis.imshow(surface, origin="lower", extent=(low, high, low, high), cmap="viridis",
                                 vmin=0, vmax=1)
            for (a, b), out in zip(inputs, outputs):
                axis.annotate(f"{out:g}", (a, b), ha="center", va="center", color="red", fontsize=13,
                              fontweight="bold", bbox={"facecolor": "white", "alpha": 0.8})
            axis.set_xlabel("x1")
            axis.set_ylabel("x2")
        axis.set_title(f"{name}\n{gate.how}", fontsize=10)
    figure.colorbar(image, ax=figure.axes, shrink=0.8, label="network output")
    return figure


def demonstrate() -> Demonstration:
    """Item 3: every truth table exact."""
    claims = [Claim.holds("logic_gates_exact", all_exact(), "AND, OR, NOT, XOR ReLU networks: truth tables exact")]
    tables = {name: truth_table(name)[1].tolist() for name in GATES}
    return Demonstration("logic_gates", "ReLU networks as logic gates", claims, plot(), {"gate_outputs": tables})
