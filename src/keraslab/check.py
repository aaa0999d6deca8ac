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
calls this module.
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
    """(layer type, output shape without the batch, activation) per layer with weights or a shape change."""
    summary = []
    for layer in model.layers:
        activation = getattr(getattr(layer, "activation", None), "__name__", "")
        summary.append((type(layer).__name__, tuple(layer.output.shape[1:]), activation))
    return summary


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
