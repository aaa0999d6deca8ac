"""Callbacks (``keraslab run callbacks``, lesson labs/08_callbacks.py): Keras' own callbacks on Fashion-MNIST.

Three trainings of the smaller Fashion-MNIST network (``fashion-mlp-small``, 256-128,
so that all three fit in a few minutes on a CPU):

1. constant learning rate with ``EarlyStopping(restore_best_weights=True)``,
   ``ModelCheckpoint`` (the best model as ``best.keras``, reloaded and evaluated),
   ``CSVLogger`` (``log.csv``), ``TerminateOnNaN`` and ``TensorBoard`` (``tensorboard/``,
   where the ``tensorboard`` package is installed);
2. a cosine decay of the learning rate through ``LearningRateScheduler``;
3. ``ReduceLROnPlateau``.

Every run logs its learning rate per epoch (``LearningRateLogger``), so each History
holds it. The run folder: ``metrics.json`` (best and restored validation loss, the
epoch that stopped training, the budget), ``history.json`` (run 1), ``histories.json``
(all three), ``early_stopping.png``, ``learning_rate.png``, ``log.csv``, ``best.keras``.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import keras
import numpy as np
from matplotlib.figure import Figure

from keraslab import figures, models
from keraslab.backend import current
from keraslab.beyond.catalog import Topic
from keraslab.day1 import fashion_mnist
from keraslab.errors import UserError
from keraslab.training import prepare_run_dir, write_json, write_metrics

NETWORK = "fashion-mlp-small"
LEARNING_RATE = 1e-3  # Adam's default
BATCH_SIZE = 128
VALIDATION_FRACTION = 1 / 6  # 10,000 of the 60,000 training images, as in labs/04_overtraining.py
PLATEAU_FACTOR, PLATEAU_PATIENCE = 0.5, 1  # ReduceLROnPlateau: halve the rate after one epoch without progress
CHECKPOINT, CSV_LOG, TENSORBOARD_DIR = "best.keras", "log.csv", "tensorboard"
TENSORBOARD_MISSING = ("TensorBoard is not installed here (the tensorflow-cpu wheel does not bring it): "
                       "pip install tensorboard to get the TensorBoard callback's logs")


class LearningRateLogger(keras.callbacks.Callback):
    """Puts the learning rate each epoch trained with into its logs, so ``History`` records it.

    Place it after a ``LearningRateScheduler`` (which sets the rate as the epoch begins) and
    before ``CSVLogger`` (which writes the logs as the epoch ends)."""

    def on_epoch_begin(self, epoch, logs=None):
        self.rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = self.rate


def cosine_schedule(epochs: int, learning_rate: float = LEARNING_RATE):
    """The learning rate of each epoch: a cosine from ``learning_rate`` down to 0 over ``epochs`` epochs."""
    decay = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=epochs)
    return lambda epoch, current_rate=None: float(keras.ops.convert_to_numpy(decay(epoch)))


def tensorboard_available() -> bool:
    """Can Keras' TensorBoard callback write its logs here? It needs the ``tensorboard`` package."""
    return importlib.util.find_spec("tensorboard") is not None


def early_stopping_curves(history: Mapping[str, Sequence[float]], best_epoch: int, budget: int, *,
                          ax=None) -> Figure:
    """Training and validation loss per epoch, the best epoch (whose weights were restored) and where
    training stopped, against the epoch budget. ``best_epoch`` counts from 1."""
    figure, ax = figures.axes_or_new(ax, (6, 4))
    epochs = np.arange(1, len(history["loss"]) + 1)
    ax.plot(epochs, history["loss"], "o-", label="training")
    ax.plot(epochs, history["val_loss"], "s--", label="validation")
    ax.plot(best_epoch, history["val_loss"][best_epoch - 1], "*", color="C3", markersize=16,
            label=f"best epoch {best_epoch}: weights restored")
    ax.axvline(epochs[-1], color="0.4", linestyle=":", label=f"stopped after epoch {epochs[-1]} of {budget}")
    ax.set(xlabel="epoch", ylabel="loss", xlim=(0.5, budget + 0.5), title="EarlyStopping(restore_best_weights=True)")
    ax.legend()
    ax.grid(alpha=0.3)
    return figure


def learning_rates(histories: Mapping[str, Mapping[str, Sequence[float]]], *, ax=None) -> Figure:
    """The learning rate per epoch (``history["learning_rate"]``, left) and the validation loss (right) of each run."""
    figure, axes = figures.axes_or_new(ax, (10, 3.8), ncols=2)
    for (name, history), color in zip(histories.items(), ("C0", "C1", "C2", "C3", "C4")):
        epochs = np.arange(1, len(history["learning_rate"]) + 1)
        axes[0].plot(epochs, history["learning_rate"], "o-", color=color, label=name)
        axes[1].plot(epochs, history["val_loss"], "s--", color=color, label=name)
    axes[0].set(xlabel="epoch", ylabel="learning rate", title="learning rate logged each epoch")
    axes[1].set(xlabel="epoch", ylabel="validation loss")
    for panel in axes:
        panel.legend()
        panel.grid(alpha=0.3)
    return figure


def _data(data_dir, train_images: int):
    """(train, validation, test) as (images in [0, 1], labels): the first ``train_images`` training images,
    the last sixth of them held out for validation."""
    (x, y), (x_test, y_test) = fashion_mnist.load(data_dir)
    x, y = fashion_mnist.scale(x[:train_images]), y[:train_images]  # all of them where there are fewer
    n_train = len(x) - max(1, round(len(x) * VALIDATION_FRACTION))
    if n_train < 1:
        raise UserError(f"{len(x)} training image(s) leave nothing to train on after holding out the validation "
                        "images; use at least 2 (--train-images)")
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:]), (fashion_mnist.scale(x_test), y_test)


def _compiled(optimizer_rate: float = LEARNING_RATE) -> keras.Model:
    model = models.build(NETWORK)
    model.compile(optimizer=keras.optimizers.Adam(optimizer_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _history(history: keras.callbacks.History) -> dict[str, list[float]]:
    return {key: [float(v) for v in values] for key, values in history.history.items()}


def run(topic: Topic, out: Path | str, overwrite: bool = False, *, data_dir, epochs: int, patience: int,
        schedule_epochs: int, train_images: int) -> dict:
    """The three trainings into the run folder ``out``; returns metrics.json's content.
    The options' defaults are in ``catalog.TOPICS["callbacks"]``."""
    train, validation, test = _data(data_dir, train_images)  # bad data or options: nothing written yet
    schedule_epochs = min(schedule_epochs, epochs)  # a short rehearsal (keraslab lab --quick: --epochs 1) stays short
    run_dir = prepare_run_dir(out, overwrite=overwrite)
    keras.utils.set_random_seed(0)
    print(f"{len(train[0])} training, {len(validation[0])} validation, {len(test[0])} test images; "
          f"network {NETWORK}, batch {BATCH_SIZE}", flush=True)
    fit = {"batch_size": BATCH_SIZE, "validation_data": validation, "verbose": 2}

    print(f"\n1. constant learning rate {LEARNING_RATE:g}, early stopping (patience {patience}), budget {epochs} epochs")
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    logs = [LearningRateLogger(),  # first, so that CSVLogger (and TensorBoard) see the learning rate too
            stopper, keras.callbacks.ModelCheckpoint(run_dir / CHECKPOINT, monitor="val_loss", save_best_only=True),
            keras.callbacks.CSVLogger(run_dir / CSV_LOG), keras.callbacks.TerminateOnNaN()]
    if tensorboard_available():
        logs.append(keras.callbacks.TensorBoard(log_dir=run_dir / TENSORBOARD_DIR))
    else:
        print(TENSORBOARD_MISSING)
    model = _compiled()
    started = time.perf_counter()
    early = _history(model.fit(*train, epochs=epochs, callbacks=logs, **fit))
    fit_seconds = time.perf_counter() - started
    restored_val_loss = float(model.evaluate(*validation, batch_size=4096, verbose=0)[0])
    checkpoint_val_loss = float(keras.saving.load_model(run_dir / CHECKPOINT).evaluate(
        *validation, batch_size=4096, verbose=0)[0])
    test_loss, test_accuracy = (float(v) for v in model.evaluate(*test, batch_size=4096, verbose=0))
    best_epoch = int(np.argmin(early["val_loss"])) + 1

    histories = {"constant + early stopping": early}
    for name, callback in (("cosine decay", keras.callbacks.LearningRateScheduler(cosine_schedule(schedule_epochs))),
                           ("ReduceLROnPlateau", keras.callbacks.ReduceLROnPlateau(
                               monitor="val_loss", factor=PLATEAU_FACTOR, patience=PLATEAU_PATIENCE))):
        print(f"\n{len(histories) + 1}. {name}, {schedule_epochs} epochs", flush=True)
        keras.utils.set_random_seed(0)
        started = time.perf_counter()
        histories[name] = _history(_compiled().fit(*train, epochs=schedule_epochs,
                                                   callbacks=[callback, LearningRateLogger()], **fit))
        fit_seconds += time.perf_counter() - started

    write_json(run_dir / "history.json", early)
    write_json(run_dir / "histories.json", histories)
    figures.save(early_stopping_curves(early, best_epoch, epochs), run_dir / "early_stopping.png")
    figures.save(learning_rates(histories), run_dir / "learning_rate.png")
    metrics = {
        "network": NETWORK,
        "params": int(model.count_params()),
        "epochs_budget": epochs,
        "patience": patience,
        "stopped_epoch": len(early["loss"]),
        "best_epoch": best_epoch,
        "best_val_loss": min(early["val_loss"]),
        "restored_val_loss": restored_val_loss,
        "checkpoint_val_loss": checkpoint_val_loss,
        "test_loss": test_loss,
        "test_accuracy": test_accuracy,
        "schedule_epochs": schedule_epochs,
        **{f"final_val_loss_{key}": history["val_loss"][-1]
           for key, history in (("cosine", histories["cosine decay"]),
                                ("plateau", histories["ReduceLROnPlateau"]))},
        "final_learning_rate_plateau": histories["ReduceLROnPlateau"]["learning_rate"][-1],
        "tensorboard": tensorboard_available(),
        "fit_seconds": round(fit_seconds, 3),
        "backend": current(),
    }
    write_metrics(run_dir, metrics)
    return metrics
