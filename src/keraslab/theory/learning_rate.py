"""Item 7: gradient descent and the learning rate, on the day-one regression.

The slides' 10-20-30-1 network (``keraslab.models``) is trained with plain SGD on
the toy data (``keraslab.day1.toy``) at learning rates from too small to too large.
A run *diverges* when its loss becomes NaN or infinite, or grows beyond
``DIVERGENCE_FACTOR`` times the starting loss; training then stops and the
curve ends with a marker at the last finite loss, instead of plotting NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np
from matplotlib.figure import Figure

from keraslab import models
from keraslab.day1 import toy
from keraslab.day1.catalog import PARTS
from keraslab.theory.demonstration import Claim, Demonstration

GOOD_RATE = PARTS["regression"].learning_rate  # the slides' SGD rate
LEARNING_RATES = (1e-4, GOOD_RATE, 1.0, 10.0)  # too small, good, too large, far too large
DIVERGENCE_FACTOR = 100.0
NETWORK = "regression"


class DivergenceStop(keras.callbacks.Callback):
    """Record the loss after every batch and stop at divergence.

    Keras reports, after each batch, the mean loss over the epoch so far; a NaN or
    inf in any batch therefore shows up at once. ``diverged_at`` is the
    (epoch, batch) where it happened, 1-based, or None; ``last_finite`` the
    (epoch as a fraction, loss) of the last batch before it.
    """

    def __init__(self, initial_loss: float) -> None:
        super().__init__()
        self.limit = DIVERGENCE_FACTOR * initial_loss
        self.diverged_at: tuple[int, int] | None = None
        self.last_finite = (0.0, initial_loss)
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        loss = float((logs or {}).get("loss", 0.0))
        if self.diverged_at is not None:
            return
        if math.isfinite(loss) and loss <= self.limit:
            self.last_finite = (self.epoch - 1 + (batch + 1) / self.params["steps"], loss)
        else:
            self.diverged_at = (self.epoch, batch + 1)
            self.model.stop_training = True


@dataclass(frozen=True)
class LearningRateRun:
    """One learning rate's training: loss before training and after each finished epoch."""

    learning_rate: float
    losses: list[float]  # index 0: before training; then one per finished epoch (MSE, units of y^2)
    diverged_at: tuple[int, int] | None  # (epoch, batch) where the loss blew up
    last_finite: tuple[float, float]  # (fractional epoch, loss) of the last batch before divergence

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None


def train_at(learning_rate: float, x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int = 32,
             seed: int = 0) -> LearningRateRun:
    """Train a fresh regression network with SGD at ``learning_rate``; same initial weights for every rate."""
    keras.utils.set_random_seed(seed)
    model = models.compile_for(models.build(NETWORK), NETWORK, optimizer="sgd", learning_rate=learning_rate)
    initial = float(model.evaluate(x, y, batch_size=1024, verbose=0))
    stop = DivergenceStop(initial)
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, callbacks=[stop], verbose=0, shuffle=True)
    finished = history.history.get("loss", [])
    if stop.diverged_at is not None:  # the epoch in which it diverged did not finish
        finished = finished[: stop.diverged_at[0] - 1]
    return LearningRateRun(learning_rate, [initial, *map(float, finished)], stop.diverged_at, stop.last_finite)


def scan(learning_rates: tuple[float, ...] = LEARNING_RATES, n_samples: int = 10_000, epochs: int = 20,
         seed: int = 0) -> list[LearningRateRun]:
    """Train at each learning rate on the same toy data; prints one line per rate."""
    x, y = toy.make_regression(n_samples=n_samples, seed=seed)
    runs = []
    for rate in learning_rates:
        run = train_at(rate, x, y, epochs, seed=seed)
        outcome = f"diverged at epoch {run.diverged_at[0]}, batch {run.diverged_at[1]}" if run.diverged \
            else f"final loss {run.losses[-1]:.4g}"
        print(f"learning rate {rate:g}: {outcome}", flush=True)
        runs.append(run)
    return runs


def plot(runs: list[LearningRateRun]) -> Figure:
    """Loss per epoch on a log scale; a diverged run ends with an X at its last finite loss."""
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    axis = figure.subplots()
    for run in runs:
        epochs = list(range(len(run.losses)))
        losses = list(run.losses)
        if run.diverged:
            epochs.append(run.last_finite[0])
            losses.append(run.last_finite[1])
        (line,) = axis.plot(epochs, losses, "o-", ms=3,
                            label=f"lr = {run.learning_rate:g}" + (" (diverged)" if run.diverged else ""))
        if run.diverged:
            axis.plot(epochs[-1], losses[-1], "X", ms=14, color=line.get_color())
            epoch, batch = run.diverged_at
            axis.annotate(f"diverged: epoch {epoch}, batch {batch}", (epochs[-1], losses[-1]),
                          textcoords="offset points", xytext=(10, 4), color=line.get_color())
    axis.set_yscale("log")
    axis.set_xlabel("epoch (0 = before training)")
    axis.set_ylabel("training loss (MSE)")
    axis.set_title("SGD on the day-one regression: the learning rate decides")
    axis.legend()
    return figure


def demonstrate(n_samples: int = 10_000, epochs: int = 20, seed: int = 0) -> Demonstration:
    """Item 7: too small converges slowly, a good rate converges, too large diverges (detected)."""
    runs = scan(n_samples=n_samples, epochs=epochs, seed=seed)
    by_rate = {run.learning_rate: run for run in runs}
    small, good, large = by_rate[min(LEARNING_RATES)], by_rate[GOOD_RATE], by_rate[max(LEARNING_RATES)]
    claims = [
        Claim.holds("lr_largest_diverges_detected", large.diverged,
                    f"learning rate {large.learning_rate:g} diverges and the divergence is detected"),
        Claim.holds("lr_good_beats_small", not good.diverged and good.losses[-1] < small.losses[-1],
                    f"learning rate {good.learning_rate:g} ends below {small.learning_rate:g} (slow convergence)"),
        Claim.holds("lr_curves_finite", all(np.all(np.isfinite(run.losses)) for run in runs),
                    "no NaN or inf is plotted"),
    ]
    extras = {f"lr_{run.learning_rate:g}": (f"diverged at epoch {run.diverged_at[0]}, batch {run.diverged_at[1]}"
                                            if run.diverged else f"final loss {run.losses[-1]:.4g}")
              for run in runs}
    return Demonstration("learning_rate", "Learning rate: slow, good, divergent", claims, plot(runs), extras)
