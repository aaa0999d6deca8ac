"""Toy data and the day-one networks: the slides' numbers."""

import os

import numpy as np
import pytest

from keraslab import models
from keraslab.day1 import toy
from keraslab.errors import UserError


def test_regression_data_is_seeded_uniform_and_follows_the_formula():
    x, y = toy.make_regression(500, 10, seed=3)
    assert x.shape == (500, 10) and y.shape == (500,)
    assert x.dtype == np.float32 and y.dtype == np.float32
    assert 0.0 <= x.min() and x.max() < 1.0
    np.testing.assert_allclose(y, np.sin((x.astype(np.float64) ** 2).sum(axis=1)), rtol=1e-5, atol=1e-6)
    x2, y2 = toy.make_regression(500, 10, seed=3)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert not np.array_equal(x, toy.make_regression(500, 10, seed=4)[0])


def test_binary_labels_are_the_sign_of_the_sine():
    x, label = toy.make_binary(2000, seed=1)
    assert set(np.unique(label)) == {0.0, 1.0}
    np.testing.assert_array_equal(label, (np.sin(toy.hidden_variable(x)) >= 0).astype(np.float32))
    assert 0.05 < label.mean() < 0.95  # both classes present


@pytest.mark.parametrize("n", [0, -5])
def test_non_positive_sample_size_is_a_user_error(n):
    with pytest.raises(UserError, match="positive"):
        toy.make_regression(n)


@pytest.mark.parametrize(
    ("name", "params"),
    [("regression", 881), ("classification", 11_301), ("fashion-mlp", 669_706),
     ("fashion-mlp-l2", 669_706), ("fashion-mlp-dropout", 669_706), ("fashion-mlp-small", 235_146),
     ("fashion-mlp-batchnorm", 673_802), ("fashion-cnn", 315_146)],
)
def test_parameter_counts_are_the_slides(name, params):
    assert models.build(name).count_params() == params


def test_regression_summary_has_the_slides_layer_counts():
    model = models.build("regression")
    assert [layer.count_params() for layer in model.layers if layer.weights] == [220, 630, 31]


def test_variants_really_hold_their_regularisation():
    kinds = lambda name: {type(layer).__name__ for layer in models.build(name).layers}  # noqa: E731
    assert "Dropout" in kinds("fashion-mlp-dropout")
    assert "BatchNormalization" in kinds("fashion-mlp-batchnorm")
    assert "Conv2D" in kinds("fashion-cnn")
    assert models.build("fashion-mlp-l2").layers[2].kernel_regularizer is not None


def test_options_change_the_architecture():
    model = models.build("regression", layers=(100, 100, 100), activation="tanh")
    dense = [layer for layer in model.layers if layer.weights]
    assert [layer.units for layer in dense] == [100, 100, 100, 1]
    assert dense[0].activation.__name__ == "tanh"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: models.build("nope"), "unknown network"),
        (lambda: models.build("regression", activation="banana"), "unknown activation"),
        (lambda: models.build("regression", layers=(20, 0)), "positive"),
        (lambda: models.build("regression", colour="red"), "no option"),
        (lambda: models.make_optimizer("adagrad", 0.1), "unknown optimizer"),
        (lambda: models.make_optimizer("sgd", 0.0), "learning rate must be positive"),
    ],
)
def test_bad_choices_are_user_errors(call, message):
    with pytest.raises(UserError, match=message):
        call()


def test_compile_uses_the_slides_defaults_and_overrides():
    model = models.compile_for(models.build("regression"), "regression")
    assert type(model.optimizer).__name__ == "SGD"
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)
    model = models.compile_for(models.build("regression"), "regression", optimizer="sgd-momentum", learning_rate=0.1)
    assert float(model.optimizer.momentum) == pytest.approx(0.9)
    model = models.compile_for(models.build("classification"), "classification")
    assert type(model.optimizer).__name__ == "Adam"


def test_precision_choice_and_float32_probabilities():
    import keras

    from keraslab.backend import mixed_precision

    with pytest.raises(UserError, match="unknown precision"):
        mixed_precision("half")
    try:
        assert mixed_precision("mixed_bfloat16") == "mixed_bfloat16"
        model = models.build("fashion-cnn")
        assert any(layer.compute_dtype == "bfloat16" for layer in model.layers if layer.weights)
        assert model.output.dtype == "float32"  # softmax kept in float32
    finally:
        assert mixed_precision("float32") == "float32"
    assert keras.mixed_precision.dtype_policy().name == "float32"


def test_a_missing_preferred_backend_falls_back_to_the_other():
    import subprocess
    import sys

    # a fresh interpreter without Keras imported and TensorFlow hidden, as on macOS with an Intel CPU
    code = ("import importlib.util as util; find = util.find_spec; "
            "util.find_spec = lambda name, *a: None if name == 'tensorflow' else find(name, *a); "
            "from keraslab.backend import select; print(select('tensorflow'))")
    env = {key: value for key, value in os.environ.items() if key != "KERAS_BACKEND"}
    printed = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert printed.strip() == "('jax', 'tensorflow is not installed here')"
