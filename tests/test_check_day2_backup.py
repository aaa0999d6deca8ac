"""The self-checks of the back-up pages (labs/05) and of day two (labs/06, 07).

Each check passes a right answer, and answers a wrong one and an empty one (None)
with one hint line, never an exception.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keraslab import check
from keraslab.theory import universal_approximation as approx
from keraslab.toptag import networks


def verdict_of(capsys, check_function, *args):
    """Run a check; return its verdict after asserting it printed exactly its one line."""
    verdict = check_function(*args)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [str(verdict)]
    return verdict


def assert_hint(capsys, check_function, *args, saying: str):
    verdict = verdict_of(capsys, check_function, *args)
    assert not verdict and saying in verdict.message, verdict.message


# --- back-up pages -------------------------------------------------------------------


def gate_network(hidden_kernel, hidden_bias, output_kernel, output_bias):
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(2, activation="relu"), keras.layers.Dense(1)])
    model.set_weights([np.array(w, dtype="float32") for w in (hidden_kernel, hidden_bias, output_kernel, output_bias)])
    return model


def test_xnor_network(capsys):
    xnor = gate_network([[1, 1], [1, 1]], [0, -1], [[-1], [2]], [1])  # 1 − XOR
    assert verdict_of(capsys, check.xnor_network, xnor)
    xor = gate_network([[1, 1], [1, 1]], [0, -1], [[1], [-2]], [0])
    assert_hint(capsys, check.xnor_network, xor, saying="for (x1, x2) = (0, 0) your network gives 0, XNOR gives 1")
    assert_hint(capsys, check.xnor_network, None, saying="nothing to check yet")
    assert_hint(capsys, check.xnor_network, "weights", saying="should be a Keras model")


def test_hinge_weights(capsys):
    weights, bias = approx.interpolating_weights()
    assert verdict_of(capsys, check.hinge_weights, weights, bias)
    assert verdict_of(capsys, check.hinge_weights, list(weights), int(bias))  # plain lists and ints are fine
    assert_hint(capsys, check.hinge_weights, approx.SLIDE_WEIGHTS, approx.SLIDE_BIAS, saying="at x = 0 your network gives 0")
    assert_hint(capsys, check.hinge_weights, approx.SLIDE_WEIGHTS, 1.0, saying="at x = 2 your network gives 5 instead of 2^2 = 4")
    assert_hint(capsys, check.hinge_weights, weights[:9], bias, saying="9 weights given")
    assert_hint(capsys, check.hinge_weights, None, None, saying="nothing to check yet")


def chain_rule(x, y, w1, w2, mean_factor=True, relu_gate=True):
    """dL/dW1, dL/dW2 for L = mean((ReLU(x W1ᵀ) W2ᵀ − y)²); the flags break it on purpose."""
    z = x @ w1.T
    h = np.maximum(z, 0)
    d_y_hat = 2 * (h @ w2.T - y) / (y.size if mean_factor else len(y))
    d_z = (d_y_hat @ w2) * ((z > 0) if relu_gate else 1)
    return d_z.T @ x, d_y_hat.T @ h


def test_two_layer_gradients(capsys):
    assert verdict_of(capsys, check.two_layer_gradients, chain_rule)
    assert_hint(capsys, check.two_layer_gradients, lambda *a: chain_rule(*a, mean_factor=False),
                saying="dL/dW1 is 2 times the right one")  # the mean over samples only, not over both outputs
    assert_hint(capsys, check.two_layer_gradients, lambda *a: chain_rule(*a, relu_gate=False),
                saying="dL/dW1 is wrong")
    assert_hint(capsys, check.two_layer_gradients, lambda *a: chain_rule(*a)[0], saying="should return two arrays")
    assert_hint(capsys, check.two_layer_gradients, None, saying="nothing to check yet")


def test_momentum_step(capsys):
    def keras_form(theta, velocity, gradient, learning_rate, momentum):
        velocity = momentum * velocity - learning_rate * gradient
        return theta + velocity, velocity

    def textbook_form(theta, velocity, gradient, learning_rate, momentum):  # v = μv + g, θ -= ηv: the same steps
        velocity = momentum * velocity + gradient
        return theta - learning_rate * velocity, velocity

    def forgets_velocity(theta, velocity, gradient, learning_rate, momentum):
        return keras_form(theta, np.zeros_like(velocity), gradient, learning_rate, momentum)

    assert verdict_of(capsys, check.momentum_step, keras_form)
    assert verdict_of(capsys, check.momentum_step, textbook_form)
    assert_hint(capsys, check.momentum_step, forgets_velocity, saying="the first 1 steps agree with Keras, step 2 differs")
    assert_hint(capsys, check.momentum_step, lambda *a: (a[0], a[1]), saying="the first step already differs")
    assert_hint(capsys, check.momentum_step, None, saying="nothing to check yet")


# --- day two -------------------------------------------------------------------------


def image_cnn(kernel_size=4, padding="same", activation="relu"):
    return keras.Sequential([
        keras.Input(shape=(40, 40, 1)),
        keras.layers.Conv2D(8, kernel_size, padding=padding, activation=activation),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(2, activation="softmax"),
    ])


def test_lab_cnn(capsys):
    assert verdict_of(capsys, check.lab_cnn, image_cnn()).message.startswith("6,538 parameters")
    assert verdict_of(capsys, check.lab_cnn, networks.cnn())  # the package's functional twin
    assert_hint(capsys, check.lab_cnn, image_cnn(kernel_size=3), saying="6,482 parameters instead of 6,538")  # 3x3: 80 in the convolution, not 136
    assert_hint(capsys, check.lab_cnn, image_cnn(padding="valid"), saying="layer 1 is a Conv2D with output shape (37, 37, 8)")
    assert_hint(capsys, check.lab_cnn, image_cnn(activation="tanh"), saying="layer 1 has activation 'tanh'")
    assert_hint(capsys, check.lab_cnn, networks.image_dense(), saying="the lab's CNN has 4 layers after the input")
    assert_hint(capsys, check.lab_cnn, None, saying="nothing to check yet")


def test_better_tagger(capsys):
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, 2000)
    dnn = labels + 1.5 * rng.normal(size=labels.size)
    better = labels + 0.7 * rng.normal(size=labels.size)
    assert "standard deviations on the same 2000 test jets" in verdict_of(capsys, check.better_tagger, better, labels, dnn).message
    assert_hint(capsys, check.better_tagger, dnn + 1e-3 * rng.normal(size=labels.size), labels, dnn,
                saying="not yet 2 standard deviations")
    assert_hint(capsys, check.better_tagger, np.column_stack([1 - better, better]), labels, dnn, saying="take the top probability")
    assert_hint(capsys, check.better_tagger, better[:100], labels, dnn, saying="100 scores for 2000 test jets")
    assert_hint(capsys, check.better_tagger, np.full(labels.size, np.nan), labels, dnn, saying="NaN")
    assert_hint(capsys, check.better_tagger, None, labels, dnn, saying="nothing to check yet")
