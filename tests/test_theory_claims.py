"""The back-up demonstrations: each claim checked, and each check shown able to fail."""

from __future__ import annotations

import numpy as np
import pytest

from keraslab.theory import activations, adam, backprop, learning_rate, linear_collapse, logic_gates
from keraslab.theory import universal_approximation as approx


# --- 1. activations ------------------------------------------------------------------


def test_hand_derivatives_match_autodiff():
    x = np.linspace(-4, 4, 400)
    for name in activations.ACTIVATIONS:
        error = np.max(np.abs(activations.derivative(name, x) - activations.autodiff_derivative(name, x)))
        assert error < activations.DERIVATIVE_TOLERANCE, name


def test_a_wrong_derivative_is_caught():
    x = np.linspace(-4, 4, 400)
    wrong = 1 - x**2  # tanh' with x in place of tanh(x)
    assert np.max(np.abs(wrong - activations.autodiff_derivative("tanh", x))) > 1.0


def test_activation_values_are_keras():
    x = np.array([-2.0, 0.5, 3.0])
    np.testing.assert_allclose(activations.values("relu", x), [0.0, 0.5, 3.0])
    np.testing.assert_allclose(activations.values("logistic (sigmoid)", x), 1 / (1 + np.exp(-x)), rtol=1e-6)
    np.testing.assert_allclose(activations.values("softmax (x, 0, 0)[0]", x), np.exp(x) / (np.exp(x) + 2), rtol=1e-6)


# --- 2. linear collapse --------------------------------------------------------------


def test_three_linear_layers_are_one_matrix():
    result = linear_collapse.compare(n_samples=500, seed=3)
    assert result.matrix.shape == (2, 3)
    assert result.linear_max_abs_err < linear_collapse.COLLAPSE_TOLERANCE
    assert result.relu_relative_residual > linear_collapse.RELU_MIN_RELATIVE_RESIDUAL


def test_collapse_order_matters():
    # A = W V U (first layer rightmost); a product in another order would be caught
    model = linear_collapse.build_network(None, seed=1)
    u, v, w = (np.asarray(layer.kernel.numpy(), dtype=np.float64).T for layer in model.layers)
    np.testing.assert_allclose(linear_collapse.collapse(model), w @ v @ u, rtol=1e-12)
    assert not np.allclose(linear_collapse.collapse(model), w @ u @ v, atol=1e-3)


# --- 3. logic gates ------------------------------------------------------------------


@pytest.mark.parametrize("name", list(logic_gates.GATES))
def test_gate_truth_table_exact(name):
    _, outputs, expected = logic_gates.truth_table(name)
    assert np.array_equal(outputs, expected)


def test_wrong_weights_break_a_gate():
    xor = logic_gates.GATES["XOR"]
    single_layer = logic_gates.Gate(xor.hidden_kernel, xor.hidden_bias, (1.0, -1.0), xor.truth, "OR weights")
    inputs = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    outputs = logic_gates.evaluate(logic_gates.build(single_layer), inputs).ravel()
    assert not np.array_equal(outputs, [0, 1, 1, 0])
    assert logic_gates.all_exact()


# --- 4. universal approximation --------------------------------------------------------


def test_derived_weights_are_the_closed_form():
    weights, bias = approx.interpolating_weights()
    np.testing.assert_allclose(weights, [1.0] + [2.0 ** (k - 1) for k in range(1, 10)], rtol=1e-12)
    assert bias == pytest.approx(1.0)


def test_corrected_network_interpolates_and_the_slide_does_not():
    result = approx.compare(n_grid=201)
    assert result.corrected_max_rel_err_at_integers <= approx.INTERPOLATION_TOLERANCE
    # between the integers a piecewise-linear chord of 2^x is at most ~6.1 % above it
    assert 0.05 < result.corrected_max_rel_err < 0.07
    assert result.slide_max_rel_err > 0.5


def test_slide_network_at_integers():
    # sum_{k<n} 2^k (n - k) = 2^(n+1) - n - 2: the slide's network, worked out by hand
    n = np.arange(11)
    slide = approx.evaluate(approx.build(approx.SLIDE_WEIGHTS, approx.SLIDE_BIAS), n)
    np.testing.assert_array_equal(slide, 2.0 ** (n + 1) - n - 2)


# --- 5. back-propagation -----------------------------------------------------------------


def test_chain_rule_matches_autodiff():
    assert backprop.network_autodiff_error(backprop.random_problem(seed=1)) < backprop.AUTODIFF_TOLERANCE


def test_forgetting_the_relu_mask_is_caught():
    problem = backprop.random_problem(seed=1)
    x, y, w1, w2 = problem.x, problem.y, problem.w1, problem.w2
    h = np.maximum(x @ w1.T, 0)
    d_h = 2 * (h @ w2.T - y) / y.size @ w2
    wrong_w1 = d_h.T @ x  # no (z > 0) factor
    auto_w1, _ = backprop.autodiff_gradients(problem)
    assert backprop.relative_error(wrong_w1, auto_w1) > 0.1


def test_computational_graph_forward_and_backward():
    result = backprop.computational_graph()
    v = backprop.DEFAULT_GRAPH_VALUES
    d = v["w3"] * v["w1"] * v["a"] + v["w4"] * v["w2"] * v["a"]
    assert result.values["d"] == pytest.approx(d)
    # dL/da sums the two paths a -> b -> d and a -> c -> d
    assert result.by_hand["a"] == pytest.approx((d - 1) * (v["w3"] * v["w1"] + v["w4"] * v["w2"]))
    assert result.error(result.autodiff) < backprop.AUTODIFF_TOLERANCE
    assert result.error(result.finite_differences) < backprop.FINITE_DIFFERENCE_TOLERANCE


# --- 6. Adam ---------------------------------------------------------------------------


def test_algorithm_1_reproduces_keras_adam():
    comparison = adam.compare_adam(steps=200)
    assert comparison.max_abs_err <= adam.ADAM_TOLERANCE
    assert comparison.max_abs_err_keras_form < 1e-12  # Keras' form in float64: only round-off
    # the float32 hyper-parameters are a real, measured difference, not noise
    assert comparison.max_abs_err_exact_hyperparameters > 100 * comparison.max_abs_err_keras_form


def test_adam_first_step_is_alpha_times_sign():
    trajectory, gradients = adam.adam_numpy(np.array([1.0, -2.0]), adam.ravine_gradient, 1)
    np.testing.assert_allclose(trajectory[1] - trajectory[0], -1e-3 * np.sign(gradients[0]), rtol=1e-6)


def test_all_optimisers_descend_the_ravine():
    for name, path in adam.optimizer_paths(steps=30).items():
        assert adam.ravine_loss(path[-1]) < 0.1 * adam.ravine_loss(path[0]), name


# --- 7. learning rate ---------------------------------------------------------------------


def test_divergence_is_detected_and_never_nan():
    runs = learning_rate.scan(learning_rates=(1e-2, 10.0), n_samples=640, epochs=2)
    good, large = runs
    assert not good.diverged and len(good.losses) == 3
    assert large.diverged and large.diverged_at[0] == 1
    assert all(np.all(np.isfinite(run.losses)) for run in runs)
    assert np.isfinite(large.last_finite[1])


def test_divergence_stop_thresholds():
    stop = learning_rate.DivergenceStop(initial_loss=0.5)
    stop.set_params({"steps": 10})
    stop.set_model(type("Model", (), {"stop_training": False})())
    stop.on_epoch_begin(0)
    stop.on_train_batch_end(0, {"loss": 0.4})
    assert stop.diverged_at is None and stop.last_finite == (0.1, 0.4)
    stop.on_train_batch_end(1, {"loss": 51.0})  # > 100 x the initial loss
    assert stop.diverged_at == (1, 2) and stop.model.stop_training
