"""The day-one exercise checks: a pass for the right answer, one hint (never an exception) otherwise."""

import keras
import numpy as np
from keras import layers

from keraslab import check


def verdict(capsys, check_function, *answer):
    result = check_function(*answer)
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed == [str(result)], "a check prints exactly one line, its verdict"
    return result


def regression_network(units=30, hidden_activation="relu", output_activation=None, inputs=10):
    return keras.Sequential([keras.Input(shape=(inputs,)), layers.Dense(20, activation="relu"),
                             layers.Dense(units, activation=hidden_activation),
                             layers.Dense(1, activation=output_activation)])


def test_regression_network(capsys):
    assert verdict(capsys, check.regression_network, regression_network()).message.startswith("881 parameters")
    hints = {
        "layer 2 has activation 'tanh'; the hidden layers of the slides use ReLU": regression_network(hidden_activation="tanh"),
        "layer 3 has activation 'relu'; a regression output can be any number": regression_network(output_activation="relu"),
        "layer 2 is a Dense with output shape (31,)": regression_network(units=31),
        "start with keras.Input(shape=(10,))": regression_network(inputs=9),
        "nothing to check yet": None,
    }
    for hint, answer in hints.items():
        result = verdict(capsys, check.regression_network, answer)
        assert not result and hint in result.message, result


def test_stop_epoch_and_the_off_by_one(capsys):
    history = {"loss": [1.0, 0.8, 0.6, 0.5], "val_loss": [1.0, 0.7, 0.9, 1.1]}
    assert verdict(capsys, check.stop_epoch, 2, history)
    assert "off by one" in verdict(capsys, check.stop_epoch, 1, history).message
    assert not verdict(capsys, check.stop_epoch, 4, history)


def test_narrower_gap(capsys):
    plain = {"loss": [0.5, 0.2], "val_loss": [0.5, 0.6]}
    assert verdict(capsys, check.narrower_gap, {"loss": [0.5, 0.3], "val_loss": [0.5, 0.4]}, plain)
    assert not verdict(capsys, check.narrower_gap, {"loss": [0.5, 0.1], "val_loss": [0.5, 0.7]}, plain)
    assert "no validation loss" in verdict(capsys, check.narrower_gap, {"loss": [0.5]}, plain).message


def test_hand_accuracy_and_a_wrong_type(capsys):
    model = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(1, activation="sigmoid")])
    x = np.random.default_rng(0).random((200, 2)).astype("float32")
    labels = (x[:, 0] > 0.5).astype("float32")
    right = float(np.mean((model.predict(x, verbose=0)[:, 0] > 0.5) == (labels == 1)))
    assert verdict(capsys, check.hand_accuracy, right, model, x, labels)
    assert not verdict(capsys, check.hand_accuracy, right - 0.1, model, x, labels)
    assert "could not be checked" in verdict(capsys, check.hand_accuracy, "most", model, x, labels).message
