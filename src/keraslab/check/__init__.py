"""Offline self-checks for the notebooks' exercises.

A student writes an answer in the exercise cell, then runs the check cell below it,
``check.<exercise>(answer, ...)``. Each check prints exactly one line, a pass
(``✔ ...``) or one hint (``✘ ...``), and returns a ``Verdict`` (true when passed). It
never raises and never prints the solution: an empty answer (``None``), a wrong type
or an answer that makes Keras fail all end as a hint. Checks run in about a second on
a CPU, with no network.

Conventions for the notebook sources (``labs/*.py``), used by ``keraslab.editions``:
a cell tagged ``exercise`` holds the student's stub (``answer = None  # your code here``),
the cell tagged ``solution`` after it the tutor's answer, and a cell tagged ``check``
calls this module. The parts beyond the slides keep their checks in submodules
(``from keraslab.check import callbacks as check``), built from the helpers here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check; it is true when the answer passed."""

    exercise: str
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return f"{'✔' if self.passed else '✘'} {self.exercise}: {self.message}"

    def _ipython_display_(self) -> None:
        """Already printed by the check: show nothing more when it ends a cell."""


class Hint(Exception):
    """Raised inside a check to fail it with this message (a hint, never the answer)."""


def _exercise(title: str):
    """Turn ``check_function(...) -> str`` (the pass message) into a printing, never-raising check.

    The function raises ``Hint`` for a wrong answer. Any other exception (an answer of
    the wrong type, a model Keras cannot run on the data) becomes a hint too, so the
    student sees one line and no traceback.
    """

    def decorate(check_function):
        @functools.wraps(check_function)
        def check(*args, **kwargs) -> Verdict:
            try:
                verdict = Verdict(title, True, check_function(*args, **kwargs))
            except Hint as hint:
                verdict = Verdict(title, False, str(hint))
            except Exception as err:  # noqa: BLE001 - a student's answer may fail in any way; show one line
                first_line = (str(err).strip().splitlines() or [""])[0][:200]
                verdict = Verdict(title, False, f"your answer could not be checked ({type(err).__name__}: "
                                                f"{first_line}); run the cells above in order and try again")
            print(verdict)
            return verdict

        check.title = title
        return check

    return decorate


def _given(answer, name: str, what: str):
    """``answer``, or a hint that the exercise is still empty."""
    if answer is None or answer is Ellipsis:
        raise Hint(f"nothing to check yet: write {what} in the exercise cell above and call it `{name}`")
    return answer


def _model(model, name: str = "model"):
    """``model`` if it is a built Keras model, else a hint."""
    import keras

    _given(model, name, "your Keras model")
    if not isinstance(model, keras.Model):
        raise Hint(f"`{name}` should be a Keras model (keras.Sequential([...]) or keras.Model), got {type(model).__name__}")
    if not model.built:
        raise Hint(f"`{name}` has no input shape yet: start it with keras.Input(shape=...)")
    return model


def _layer_summary(model) -> list[tuple[str, tuple, str]]:
    """(layer type, output shape without the batch, activation) per layer after the input."""
    import keras

    summary = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):  # listed by functional models, not by Sequential ones
            continue
        activation = getattr(getattr(layer, "activation", None), "__name__", "")
        summary.append((type(layer).__name__, tuple(layer.output.shape[1:]), activation))
    return summary


def _same_layers(model, reference, reference_name: str, activation_advice, look_at: str = "") -> None:
    """Hint at the first layer where ``model`` differs from ``reference`` (type and output shape, then
    activation); ``activation_advice(position)`` says why the reference's activation is what it is,
    ``look_at`` what to compare in a layer of another shape."""
    yours, wanted = _layer_summary(model), _layer_summary(reference)
    if len(yours) != len(wanted):
        raise Hint(f"{reference_name} has {len(wanted)} layers after the input ({', '.join(w[0] for w in wanted)}), "
                   f"yours has {len(yours)}")
    for position, (got, want) in enumerate(zip(yours, wanted), start=1):
        if got[:2] != want[:2]:
            raise Hint(f"layer {position} is a {got[0]} with output shape {got[1]}; "
                       f"compare it with layer {position} of {reference_name}{look_at}")
        if got[2] != want[2]:
            raise Hint(f"layer {position} has activation {got[2]!r}; {activation_advice(position)}")


def _history(history, name: str) -> dict[str, list[float]]:
    """The per-epoch dict of a ``keras.callbacks.History`` (what ``model.fit`` returns) or of a plain dict."""
    _given(history, name, "the result of model.fit(...)")
    values = getattr(history, "history", history)
    if not isinstance(values, dict) or "loss" not in values:
        raise Hint(f"`{name}` should be what model.fit(...) returns, e.g. `{name} = model.fit(...)`")
    return values


def _accuracy(model, x, y) -> float:
    """Fraction of right answers of a classifier (sigmoid: > 0.5; softmax: argmax)."""
    probabilities = np.asarray(model.predict(x, batch_size=1024, verbose=0))
    predicted = probabilities.argmax(axis=1) if probabilities.shape[-1] > 1 else (probabilities[:, 0] > 0.5)
    return float(np.mean(predicted == np.asarray(y).astype(predicted.dtype)))


# ----------------------------------------------------------------------------------------
# Day one: labs/01_regression.py .. labs/04_overtraining.py
# ----------------------------------------------------------------------------------------

REGRESSION_TARGET_LOSS = 1e-3  # the original lab's hint (Adam, 3x100, batch 256) reaches about 1e-4
CLASSIFICATION_TARGET = 0.97  # the slides' network reaches about 0.94 in 25 epochs
FASHION_MLP_TARGET = 0.88
FASHION_CNN_TARGET = 0.91


@_exercise("the slides' network, layer by layer")
def regression_network(model) -> str:
    """``model``: the 10 -> Dense(20, relu) -> Dense(30, relu) -> Dense(1) network, 881 parameters."""
    from keraslab import models

    model = _model(model, "my_model")
    if tuple(model.input_shape[1:]) != (10,):
        raise Hint(f"the network takes 10 numbers per sample, yours takes {model.input_shape[1:]}: "
                   "start with keras.Input(shape=(10,))")
    slides = models.build("regression")
    _same_layers(model, slides, "the network on the slides",
                 lambda position: "a regression output can be any number, so it needs no activation"
                 if position == len(_layer_summary(slides)) else "the hidden layers of the slides use ReLU")
    return f"{model.count_params()} parameters (220 + 630 + 31), as on the slides"


@_exercise("a regression loss below 1e-3")
def regression_loss(model, n_samples: int = 10_000) -> str:
    """``model``: trained on y = sin(sum x^2); judged on ``n_samples`` fresh samples it has never seen."""
    from keraslab.day1.toy import make_regression

    model = _model(model, "better_model")
    x, y = make_regression(n_samples, seed=2019)  # not the notebook's samples: a test of generalisation
    prediction = np.asarray(model.predict(x, batch_size=4096, verbose=0)).reshape(-1)
    if prediction.shape != y.shape:
        raise Hint(f"the network gives {prediction.size // n_samples} numbers per sample; it should give one")
    loss = float(np.mean((prediction - y) ** 2))
    if not np.isfinite(loss):
        raise Hint("the network predicts NaN: the learning rate is too large for this optimiser")
    if loss >= REGRESSION_TARGET_LOSS:
        raise Hint(f"mean squared error on new samples {loss:.1e}, not below {REGRESSION_TARGET_LOSS:.0e} yet: "
                   "try Adam, more and wider layers, larger batches and more epochs")
    return f"mean squared error on {n_samples} new samples: {loss:.1e}"


@_exercise("a learning rate that diverges, stopped by TerminateOnNaN")
def stopped_on_nan(history) -> str:
    """``history``: what ``model.fit`` returned for a run with ``keras.callbacks.TerminateOnNaN()``."""
    losses = _history(history, "diverging_history")["loss"]
    planned = getattr(history, "params", {}).get("epochs")
    if np.all(np.isfinite(losses)):
        raise Hint(f"the loss stayed finite ({losses[-1]:.3g} at the end): make the learning rate much larger")
    if planned is not None and len(losses) >= planned:
        raise Hint("training ran all its epochs although the loss was NaN: "
                   "pass callbacks=[keras.callbacks.TerminateOnNaN()] to model.fit")
    return f"the loss became NaN and training stopped after {len(losses)} of {planned} epochs"


@_exercise("accuracy by hand")
def hand_accuracy(accuracy, model, x, labels) -> str:
    """``accuracy``: the fraction of ``predictions > 0.5`` equal to ``labels``, computed by hand on ``x``."""
    accuracy = float(_given(accuracy, "accuracy_by_hand", "your accuracy, a number between 0 and 1"))
    model = _model(model)
    import keras

    keras_accuracy = keras.metrics.BinaryAccuracy()  # threshold 0.5, as "accuracy" in model.compile
    keras_accuracy.update_state(np.asarray(labels).reshape(-1, 1), model.predict(x, batch_size=4096, verbose=0))
    keras_accuracy = float(keras_accuracy.result())
    tolerance = 0.5 / len(labels)  # less than one sample
    if not 0 <= accuracy <= 1:
        raise Hint(f"an accuracy is a fraction between 0 and 1, yours is {accuracy}")
    if abs(accuracy - keras_accuracy) > tolerance:
        raise Hint(f"yours differs from Keras' accuracy on the same samples by {abs(accuracy - keras_accuracy):.4f}: "
                   "compare (predictions > 0.5) with the labels and take the mean")
    return f"{accuracy:.4f}, the same as Keras' accuracy"



@_exercise(f"a classifier with accuracy >= {CLASSIFICATION_TARGET}")
def classification_accuracy(model, n_samples: int = 10_000) -> str:
    """``model``: trained on label = sin(sum x^2) >= 0; judged on ``n_samples`` fresh samples."""
    from keraslab.day1.toy import make_binary

    x, labels = make_binary(n_samples, seed=2019)  # not the notebook's samples: a test of generalisation
    accuracy = _accuracy(_model(model, "better_classifier"), x, labels)
    if accuracy < CLASSIFICATION_TARGET:
        raise Hint(f"accuracy on new samples {accuracy:.4f}, not {CLASSIFICATION_TARGET} yet: the mistakes sit on "
                   "the boundary; more examples near it, more nodes and more epochs help")
    return f"accuracy {accuracy:.4f} on {n_samples} new samples"

def _test_accuracy(model, x_test, y_test, name: str, target: float, advice: str) -> float:
    accuracy = _accuracy(_model(model, name), x_test, y_test)
    if accuracy < target:
        raise Hint(f"test accuracy {accuracy:.4f}, not {target} yet: {advice}")
    return accuracy


@_exercise(f"Fashion-MNIST test accuracy >= {FASHION_MLP_TARGET}")
def fashion_accuracy(model, x_test, y_test) -> str:
    """``model``: a trained Fashion-MNIST classifier (softmax over 10 classes), judged on the test images."""
    accuracy = _test_accuracy(model, x_test, y_test, "my_classifier", FASHION_MLP_TARGET,
                              "train longer, try another batch size or learning rate, or more nodes")
    return f"test accuracy {accuracy:.4f} on {len(y_test)} images it never saw"


@_exercise(f"a CNN with test accuracy >= {FASHION_CNN_TARGET}")
def cnn_accuracy(model, x_test, y_test) -> str:
    """``model``: a trained convolutional network (at least one Conv2D layer) on Fashion-MNIST."""
    model = _model(model, "my_cnn")
    if not any(layer[0] == "Conv2D" for layer in _layer_summary(model)):
        raise Hint("this network has no Conv2D layer: add layers.Reshape((28, 28, 1)) and a convolution")
    accuracy = _test_accuracy(model, x_test, y_test, "my_cnn", FASHION_CNN_TARGET,
                              "more filters, pooling, dropout, a decaying learning rate or more epochs")
    return f"test accuracy {accuracy:.4f}: convolutions see shapes where the dense network saw pixels"


def _final_gap(history, name: str) -> float:
    values = _history(history, name)
    if "val_loss" not in values:
        raise Hint(f"`{name}` has no validation loss: pass validation_split=... or validation_data=... to fit")
    return float(values["val_loss"][-1] - values["loss"][-1])


@_exercise("an over-training remedy")
def narrower_gap(history, plain_history) -> str:
    """``history``: a regularised network's ``fit``; it must end with a smaller validation - training
    loss gap than ``plain_history``, the plain network's run on the same data and epochs."""
    gap, plain_gap = _final_gap(history, "remedy_history"), _final_gap(plain_history, "plain_history")
    if gap >= plain_gap:
        raise Hint(f"validation loss - training loss at the last epoch is {gap:.3f}, the plain network's "
                   f"{plain_gap:.3f}: a remedy should make it smaller (Dropout, an L2 penalty, fewer nodes)")
    return f"gap {gap:.3f} against the plain network's {plain_gap:.3f}"


@_exercise("when to interrupt training")
def stop_epoch(epoch, history) -> str:
    """``epoch``: the epoch (counted from 1) whose weights early stopping keeps for ``history``."""
    epoch = _given(epoch, "stop_epoch", "the epoch number")
    val_loss = _history(history, "plain_history").get("val_loss")
    if not val_loss:
        raise Hint("this history has no validation loss to choose an epoch from")
    best = int(np.argmin(val_loss)) + 1
    if epoch == best - 1:
        raise Hint("off by one: Keras counts epochs from 1 in its output, Python lists from 0")
    if epoch != best:
        raise Hint(f"at epoch {epoch} the validation loss is not at its lowest yet or any more: "
                   "look for the smallest value of history['val_loss']")
    return f"epoch {best}: the lowest validation loss; later epochs only learn the training images by heart"


# ----------------------------------------------------------------------------------------
# Back-up pages: labs/05_backup.py
# ----------------------------------------------------------------------------------------

XNOR_TRUTH_TABLE = {(0, 0): 1, (0, 1): 0, (1, 0): 0, (1, 1): 1}
HAND_SET_TOLERANCE = 1e-6  # weights set by hand give the truth table to float32 round-off
MOMENTUM_STEPS = 30
MOMENTUM_LEARNING_RATE, MOMENTUM = 0.1, 0.9  # the paths figure's SGD with momentum
MOMENTUM_TOLERANCE = 1e-5  # |theta| ~ 4 held in float32 (JAX) rounds each step by ~2e-7


@_exercise("XNOR with weights set by hand")
def xnor_network(model) -> str:
    """``model``: two 0/1 inputs -> ReLU units -> one linear output, 1 where the inputs are equal."""
    import keras

    model = _model(model, "xnor")
    if tuple(model.input_shape[1:]) != (2,):
        raise Hint(f"XNOR takes two inputs, your network takes {model.input_shape[1:]}: start with keras.Input(shape=(2,))")
    inputs = np.array(list(XNOR_TRUTH_TABLE), dtype=np.float32)
    outputs = np.asarray(keras.ops.convert_to_numpy(model(inputs)), dtype=np.float64).reshape(len(inputs), -1)
    if outputs.shape[1] != 1:
        raise Hint(f"the network gives {outputs.shape[1]} numbers per input pair; XNOR gives one")
    for (x1, x2), output, expected in zip(XNOR_TRUTH_TABLE, outputs[:, 0], XNOR_TRUTH_TABLE.values()):
        if abs(output - expected) > HAND_SET_TOLERANCE:
            raise Hint(f"for (x1, x2) = ({x1}, {x2}) your network gives {output:.4g}, XNOR gives {expected}")
    return "the truth table 1, 0, 0, 1, exactly: XNOR = 1 − XOR"


@_exercise("2^x from ten ReLU hinges")
def hinge_weights(weights, bias) -> str:
    """``weights``: the ten output weights w_k of the hinges ReLU(x − k), k = 0..9; ``bias``: the output bias.
    Together they must give 2^x at x = 0, 1, ..., 10."""
    from keraslab.theory import universal_approximation as approx

    weights = np.asarray(_given(weights, "hinge_weights", "the ten output weights"), dtype=np.float64).ravel()
    bias = float(_given(bias, "hinge_bias", "the output bias"))
    if weights.size != approx.N_HINGES:
        raise Hint(f"{weights.size} weights given; the network has {approx.N_HINGES} hinges, one weight each")
    integers = np.arange(approx.N_HINGES + 1)
    network = bias + approx.hinges(integers) @ weights
    wrong = np.flatnonzero(np.abs(network - 2.0**integers) > approx.INTERPOLATION_TOLERANCE * 2.0**integers)
    if wrong.size:
        n = int(wrong[0])
        raise Hint(f"at x = {n} your network gives {network[n]:g} instead of 2^{n} = {2**n}; the value at x = {n} "
                   f"depends only on the bias and the weights of the hinges before it: fix them from left to right")
    return "2^x at x = 0, 1, ..., 10 exactly: each weight is the change of slope at its hinge"


@_exercise("back-propagation through y = W2 ReLU(W1 x)")
def two_layer_gradients(gradients) -> str:
    """``gradients(x, y, w1, w2) -> (dL_dw1, dL_dw2)`` for L = mean((ReLU(x W1ᵀ) W2ᵀ − y)²) (rows of x are samples)."""
    from keraslab.theory import backprop

    function = _given(gradients, "two_layer_gradients", "your function")
    if not callable(function):
        raise Hint("`two_layer_gradients` should be a function: def two_layer_gradients(x, y, w1, w2): ...")
    problem = backprop.random_problem(seed=2019)
    _, *expected = backprop.hand_gradients(problem)
    answer = function(problem.x, problem.y, problem.w1, problem.w2)
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise Hint("the function should return two arrays, (dL/dW1, dL/dW2)")
    for name, got, want in zip(("dL/dW1", "dL/dW2"), answer, expected):
        got = np.asarray(got, dtype=np.float64)
        if got.shape != want.shape:
            raise Hint(f"{name} has shape {got.shape}; a gradient has the shape of its weight matrix, {want.shape}")
        if backprop.relative_error(want, got) > backprop.AUTODIFF_TOLERANCE:
            ratio = float(np.sum(got * want) / np.sum(want * want))  # least-squares factor got ≈ ratio · want
            if backprop.relative_error(ratio * want, got) < backprop.AUTODIFF_TOLERANCE:
                raise Hint(f"{name} is {ratio:.4g} times the right one: check the constant factors "
                           "(the 2 of the square, the 1/N of the mean over every entry)")
            raise Hint(f"{name} is wrong (relative error {backprop.relative_error(want, got):.2g}): follow the chain "
                       "link by link, with ReLU's gate where its input is positive and the transposes")
    return "both gradients equal the chain rule's (the backend's autodiff agrees with it on page 5)"


@_exercise("one step of SGD with momentum")
def momentum_step(step) -> str:
    """``step(theta, velocity, gradient, learning_rate, momentum) -> (theta, velocity)``: one step of
    ``keras.optimizers.SGD(learning_rate, momentum)``, checked over 30 steps on the ravine of page 6."""
    import keras

    from keraslab.theory import adam

    function = _given(step, "momentum_step", "your function")
    if not callable(function):
        raise Hint("`momentum_step` should be a function: def momentum_step(theta, velocity, gradient, learning_rate, momentum): ...")
    optimizer = keras.optimizers.SGD(learning_rate=MOMENTUM_LEARNING_RATE, momentum=MOMENTUM)
    keras_path = adam.keras_path(optimizer, adam.RAVINE_START, adam.ravine_gradient, MOMENTUM_STEPS)
    theta, velocity = adam.RAVINE_START.astype(np.float64), np.zeros(2)
    for number, expected in enumerate(keras_path[1:], start=1):
        theta, velocity = function(theta, velocity, adam.ravine_gradient(theta), MOMENTUM_LEARNING_RATE, MOMENTUM)
        theta = np.asarray(theta, dtype=np.float64)
        if theta.shape != expected.shape or np.max(np.abs(theta - expected)) > MOMENTUM_TOLERANCE:
            where = "the first step already differs" if number == 1 else \
                f"the first {number - 1} steps agree with Keras, step {number} differs: check what the velocity carries over"
            raise Hint(f"{where} (θ = {np.round(theta, 5)}, Keras: {np.round(expected, 5)})")
    return f"{MOMENTUM_STEPS} steps equal keras.optimizers.SGD(learning_rate={MOMENTUM_LEARNING_RATE}, momentum={MOMENTUM})'s"


# ----------------------------------------------------------------------------------------
# Day two: labs/06..07
# ----------------------------------------------------------------------------------------

BETTER_TAGGER_SIGNIFICANCE = 2.0  # the AUC gain must exceed twice its uncertainty (same test jets)


@_exercise("the lab's CNN, 6,538 parameters")
def lab_cnn(model) -> str:
    """``model``: Conv2D(8, 4x4, same, relu) -> MaxPooling2D(2) -> Flatten -> Dense(2, softmax) on 40x40x1 images."""
    from keraslab.toptag import networks

    model = _model(model, "my_cnn")
    lab = networks.cnn()
    if tuple(model.input_shape[1:]) != networks.IMAGE_SHAPE:
        raise Hint(f"the jet images are {networks.IMAGE_SHAPE}, your network takes {model.input_shape[1:]}: "
                   f"start with keras.Input(shape={networks.IMAGE_SHAPE})")
    _same_layers(model, lab, "the lab's CNN", lambda position: "the lab's uses another one there",
                 look_at=" above (filters, kernel, padding, pool size)")
    if model.count_params() != lab.count_params():
        raise Hint(f"{model.count_params():,} parameters instead of {lab.count_params():,}: "
                   "check the kernel size of the convolution")
    return f"{model.count_params():,} parameters, layer by layer the lab's CNN (keraslab.toptag.networks.cnn)"


@_exercise("a tagger with a higher AUC than the lab's DNN")
def better_tagger(scores, labels, dnn_scores) -> str:
    """``scores``: your tagger's top probability for every test jet, in the order of ``labels``;
    ``dnn_scores``: the lab's DNN on the same jets. Passes when the AUC gain exceeds twice its
    uncertainty (DeLong, paired on the same jets)."""
    from keraslab.toptag.auc import auc_difference, auc_with_uncertainty

    scores = np.asarray(_given(scores, "my_scores", "your tagger's scores on the test jets"), dtype=np.float64)
    labels = np.asarray(labels)
    if scores.ndim == 2 and scores.shape[1] == 2:
        raise Hint("these are two columns per jet: take the top probability, model.predict(x_test)[:, 1]")
    scores = scores.ravel()
    if scores.size != labels.size:
        raise Hint(f"{scores.size} scores for {labels.size} test jets: score every test jet, in file order")
    if not np.all(np.isfinite(scores)):
        raise Hint("some scores are NaN or infinite: the training diverged; lower the learning rate or rescale the inputs")
    yours, dnn = auc_with_uncertainty(labels, scores), auc_with_uncertainty(labels, dnn_scores)
    gain = auc_difference(labels, scores, dnn_scores)
    if gain.significance <= BETTER_TAGGER_SIGNIFICANCE:
        raise Hint(f"AUC {yours} against the DNN's {dnn} on the same {labels.size} jets: a gain of {gain}, "
                   f"not yet {BETTER_TAGGER_SIGNIFICANCE:g} standard deviations: try inputs relative to the jet axis, "
                   "rescaled energies, more constituents, layers or epochs")
    return (f"AUC {yours} against the DNN's {dnn}: a gain of {gain}, {gain.significance:.1f} standard deviations "
            f"on the same {labels.size} test jets")
