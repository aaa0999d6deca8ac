# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] slideshow={"slide_type": "slide"}
# # Callbacks
#
# `model.fit` runs the epochs; a **callback** is an object that `fit` calls at fixed
# moments (the start and end of training, of each epoch, of each batch) with the
# latest numbers (`logs`). Callbacks watch, record and steer a training without
# changing the training loop:
#
# * `EarlyStopping`: stop when the validation loss stops improving, and keep the best weights;
# * `ModelCheckpoint`: save the best model to a `.keras` file;
# * `ReduceLROnPlateau` and `LearningRateScheduler`: change the learning rate during training;
# * `CSVLogger`, `TensorBoard`: write the numbers of each epoch to files;
# * `TerminateOnNaN`: stop a training that diverged;
#
# and callbacks of our own, written below. Data: Fashion-MNIST, as in the over-training lesson.

# %% tags=["parameters"] slideshow={"slide_type": "skip"}
SMALL = False  # True: a reduced run (used by the tests)
DATA_DIR = None  # folder with the four IDX .gz files; None: $KERASLAB_FASHION_MNIST_DIR or Keras' cache
CHECK_CLAIMS = True  # False only for look-alike test data made of noise, where there is nothing to learn

# %% slideshow={"slide_type": "skip"}
import importlib.util

if importlib.util.find_spec("keraslab") is None:  # e.g. a fresh Colab or JupyterHub kernel
    raise SystemExit("keraslab is not installed in this kernel: pip install the class's keraslab wheel "
                     "(README, 'Notebooks on a hosted Jupyter'), then restart the kernel")

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
from keraslab.backend import select

select("jax")  # JAX trains dense networks faster on a CPU (docs/day1.md); KERAS_BACKEND overrides

from pathlib import Path

import keras
import numpy as np
import pandas as pd
from IPython.display import display
from keras import layers
from matplotlib.figure import Figure

from keraslab.beyond.callbacks import early_stopping_curves, learning_rates
from keraslab.check import callbacks as check
from keraslab.day1 import fashion_mnist

keras.utils.set_random_seed(0)

(train_images, train_labels), (test_images, test_labels) = fashion_mnist.load(DATA_DIR)
if SMALL:
    train_images, train_labels = train_images[:3000], train_labels[:3000]
train_images, test_images = train_images / 255.0, test_images / 255.0
# the last sixth of the training images for validation, as validation_split=1/6 would hold out
n_train = len(train_images) * 5 // 6
x_train, y_train = train_images[:n_train], train_labels[:n_train]
x_val, y_val = train_images[n_train:], train_labels[n_train:]
print(f"{len(x_train)} training, {len(x_val)} validation, {len(test_images)} test images")

RUN_DIR = Path("runs/08_callbacks")  # the files the callbacks write
RUN_DIR.mkdir(parents=True, exist_ok=True)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The network
#
# The smaller network of the over-training lesson (256 and 128 nodes): it learns the
# training images by heart after a few epochs, which is what early stopping is for.

# %% twin={"model": "fashion-mlp-small"}
def fashion_mlp_small():
    return keras.Sequential([
        keras.Input(shape=(28, 28)),
        layers.Flatten(),
        layers.Dense(256, activation="relu"),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])


model = fashion_mlp_small()
print(f"{model.count_params():,} parameters")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Two callbacks of our own
#
# A callback subclasses `keras.callbacks.Callback` and overrides the moments it needs,
# e.g. `on_epoch_end(self, epoch, logs)`; `self.model` is the model being trained.
#
# * `LiveLearningCurve` redraws the losses after every epoch **in place** under the
#   cell: `display(..., display_id=True)` returns a handle whose `update` replaces the figure.
# * `LearningRateLogger` notes the optimiser's learning rate as each epoch begins and
#   writes it into that epoch's `logs` as it ends, so the `History` that `fit` returns
#   records it (as it records `loss` and `val_loss`).

# %%
class LiveLearningCurve(keras.callbacks.Callback):
    """The training and validation loss, redrawn in place after every epoch."""

    def on_train_begin(self, logs=None):
        self.losses, self.val_losses = [], []
        self.figure = Figure(figsize=(6, 3.5))
        self.ax = self.figure.subplots()
        self.handle = display(self.figure, display_id=True)

    def on_epoch_end(self, epoch, logs=None):
        self.losses.append(logs["loss"])
        self.val_losses.append(logs["val_loss"])
        epochs = range(1, epoch + 2)
        self.ax.clear()
        self.ax.plot(epochs, self.losses, "o-", label="training")
        self.ax.plot(epochs, self.val_losses, "s--", label="validation")
        self.ax.set(xlabel="epoch", ylabel="loss", title=f"after epoch {epoch + 1}")
        self.ax.legend()
        self.handle.update(self.figure)


class LearningRateLogger(keras.callbacks.Callback):
    """Adds the learning rate each epoch trained with to its logs, so History has it."""

    def on_epoch_begin(self, epoch, logs=None):
        self.rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    def on_epoch_end(self, epoch, logs=None):
        logs["learning_rate"] = self.rate


# %% [markdown] slideshow={"slide_type": "slide"}
# ## Keras' own callbacks
#
# All of them go into one list, `callbacks=[...]` of `fit`, which calls them in that
# order with the same `logs`. The epoch budget is generous on purpose: early stopping
# decides when to end.
#
# * `EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)`: after 3
#   epochs without a lower validation loss, stop, and put back the weights of the best epoch;
# * `ModelCheckpoint(..., save_best_only=True)`: write the model to `best.keras` each
#   time the validation loss reaches a new low;
# * `CSVLogger`: one row per epoch in `log.csv`;
# * `TerminateOnNaN`: stop at the first NaN loss;
# * `TensorBoard`: event files for the TensorBoard dashboard. It needs the `tensorboard`
#   package (keraslab's `notebooks` extra installs it; the tensorflow-cpu wheel no longer
#   brings it); without it we leave it out.

# %%
EPOCHS = 30  # the budget
PATIENCE = 3

stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=PATIENCE, restore_best_weights=True)
callbacks = [
    LearningRateLogger(),  # first: the callbacks after it see the learning rate in the logs
    stopper,
    keras.callbacks.ModelCheckpoint(RUN_DIR / "best.keras", monitor="val_loss", save_best_only=True),
    keras.callbacks.CSVLogger(RUN_DIR / "log.csv"),
    keras.callbacks.TerminateOnNaN(),
    LiveLearningCurve(),
]
tensorboard_installed = importlib.util.find_spec("tensorboard") is not None
if tensorboard_installed:
    callbacks.append(keras.callbacks.TensorBoard(log_dir=RUN_DIR / "tensorboard"))
else:
    print("tensorboard is not installed in this kernel: pip install tensorboard to add the TensorBoard callback")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Train: watch the curves grow under the cell.

# %%
model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=128, epochs=EPOCHS, validation_data=(x_val, y_val),
                    callbacks=callbacks, verbose=0)
epochs_run = len(history.history["loss"])
best_epoch = stopper.best_epoch + 1  # Keras counts from 0 here, from 1 in its printout
print(f"stopped after epoch {epochs_run} of {EPOCHS}; restored the weights of epoch {best_epoch}")

# %% [markdown] slideshow={"slide_type": "slide"}
# The star marks the lowest validation loss: the weights `EarlyStopping` restored.
# Training went on for `patience` epochs after it, to be sure it was not a passing dip.

# %%
early_stopping_curves(history.history, best_epoch, EPOCHS)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The restored model and the checkpoint
#
# After `fit`, `model` holds the best epoch's weights: its validation loss is the
# lowest in the history. The checkpoint `best.keras` holds the same model (network,
# weights and optimiser): `keras.saving.load_model` brings it back, for instance in
# another notebook.

# %%
restored_val_loss = model.evaluate(x_val, y_val, verbose=0)[0]
best_model = keras.saving.load_model(RUN_DIR / "best.keras")
checkpoint_val_loss, checkpoint_accuracy = best_model.evaluate(x_val, y_val, verbose=0)
print(f"lowest validation loss in the history {min(history.history['val_loss']):.4f}")
print(f"restored model {restored_val_loss:.4f}; reloaded best.keras {checkpoint_val_loss:.4f}")
print(f"test accuracy of the reloaded model {best_model.evaluate(test_images, test_labels, verbose=0)[1]:.4f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The CSV log
#
# `CSVLogger` wrote one row per epoch: pandas reads it back as a table, including the
# `learning_rate` column our logger added to the logs.

# %%
log = pd.read_csv(RUN_DIR / "log.csv")
log.round(4)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## TensorBoard
#
# With the `tensorboard` package installed (`pip install 'keraslab[notebooks]'`, or `pip install tensorboard`), the callback
# above wrote its event files to `runs/08_callbacks/tensorboard`. Open the dashboard:
#
# * in a terminal: `tensorboard --logdir runs/08_callbacks/tensorboard`, then the
#   address it prints (http://localhost:6006) in a browser;
# * inside the notebook: `%load_ext tensorboard`, then `%tensorboard --logdir runs/08_callbacks/tensorboard`.
#
# It shows the same curves as `log.csv`, updated while training runs, plus the
# network's graph and, with `histogram_freq=1`, the weights' histograms per epoch.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## TerminateOnNaN
#
# A learning rate far too large makes the loss explode to infinity, then NaN; every
# later epoch would be wasted. Here a linear model predicting the label from the
# pixels with plain SGD and a learning rate of 1: the callback ends the training at
# the first batch whose loss is NaN or infinite.

# %%
diverging = keras.Sequential([keras.Input(shape=(28, 28)), layers.Flatten(), layers.Dense(1)])
diverging.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0), loss="mse")
nan_history = diverging.fit(x_train, y_train, batch_size=128, epochs=5, verbose=0,
                            callbacks=[keras.callbacks.TerminateOnNaN()])
print(f"losses {nan_history.history['loss']}: stopped after {len(nan_history.history['loss'])} of 5 epochs")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Changing the learning rate
#
# A large learning rate makes fast progress early; a small one settles into a minimum.
# Two ways to go from one to the other:
#
# * `LearningRateScheduler(schedule)`: `schedule(epoch)` gives each epoch's rate; here a
#   cosine decay from 0.001 towards 0 (`keras.optimizers.schedules.CosineDecay`, counted in epochs);
# * `ReduceLROnPlateau(factor=0.5, patience=1)`: halve the rate after an epoch without a lower validation loss.

# %%
SCHEDULE_EPOCHS = 4 if SMALL else 10
cosine = keras.optimizers.schedules.CosineDecay(initial_learning_rate=1e-3, decay_steps=SCHEDULE_EPOCHS)


def cosine_schedule(epoch, learning_rate):
    return float(cosine(epoch))


schedule_figure = Figure(figsize=(5, 3))
ax = schedule_figure.subplots()
ax.plot(range(1, SCHEDULE_EPOCHS + 1), [cosine_schedule(epoch, None) for epoch in range(SCHEDULE_EPOCHS)], "o-")
ax.set(xlabel="epoch", ylabel="learning rate", title="cosine decay")
display(schedule_figure)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Both trainings start from fresh weights; our `LearningRateLogger` records the rate each
# epoch. It comes after the scheduler in the list: `LearningRateScheduler` sets the rate as
# the epoch begins, and the logger should see the new one.

# %%
schedules = {
    "cosine decay": keras.callbacks.LearningRateScheduler(cosine_schedule),
    "ReduceLROnPlateau": keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1),
}
histories = {"constant (above)": history.history}
for name, schedule in schedules.items():
    scheduled = fashion_mlp_small()
    scheduled.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    histories[name] = scheduled.fit(x_train, y_train, batch_size=128, epochs=SCHEDULE_EPOCHS,
                                    validation_data=(x_val, y_val), callbacks=[schedule, LearningRateLogger()],
                                    verbose=0).history
    print(f"{name:18s} final learning rate {histories[name]['learning_rate'][-1]:.2e}, "
          f"validation loss {histories[name]['val_loss'][-1]:.4f}")

# %%
learning_rates(histories)

# %% [markdown] jupyter={"source_hidden": true}
# **Answer (why decay at all?):** with a constant rate the steps keep their size, so the
# weights keep jumping around the minimum and the validation loss jitters from epoch to
# epoch; a decaying rate takes smaller steps as training goes on. `ReduceLROnPlateau`
# decides from the validation loss, the cosine follows a fixed plan.

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 1: early stopping
#
# Configure an `EarlyStopping` callback `my_stopper` that watches the validation loss,
# gives up after 2 epochs without progress and restores the best weights. Train a
# fresh `my_model = fashion_mlp_small()` (compiled as above) with it, for at most
# `EPOCHS` epochs with `validation_data=(x_val, y_val)`, and keep what `fit` returns as
# `my_history`.

# %% tags=["exercise"]
my_stopper = my_model = my_history = None  # your code here

# %% tags=["solution"]
my_stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
my_model = fashion_mlp_small()
my_model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="sparse_categorical_crossentropy",
                 metrics=["accuracy"])
my_history = my_model.fit(x_train, y_train, batch_size=128, epochs=EPOCHS, validation_data=(x_val, y_val),
                          callbacks=[my_stopper], verbose=0)

# %% tags=["check"]
check.early_stopping(my_stopper, my_history, my_model, x_val, y_val)

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 2: a callback of your own
#
# Write `StopAtAccuracy`, a subclass of `keras.callbacks.Callback`: `StopAtAccuracy(target)`
# stops training at the end of the first epoch whose validation accuracy
# (`logs["val_accuracy"]`) reaches `target`. Hint: `self.model.stop_training = True`.
# The check trains a small model on a toy problem with it.

# %% tags=["exercise"]
StopAtAccuracy = None  # your code here

# %% tags=["solution"]
class StopAtAccuracy(keras.callbacks.Callback):
    def __init__(self, target):
        super().__init__()
        self.target = target

    def on_epoch_end(self, epoch, logs=None):
        if logs["val_accuracy"] >= self.target:
            self.model.stop_training = True


# %% tags=["check"]
check.accuracy_stopper(StopAtAccuracy)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Where a GPU helps
#
# Hardly here: this network is small and each epoch takes a second or two on a CPU.
# The callbacks run between epochs on the CPU either way; a GPU shortens the epochs
# of larger networks (the CNN, day two's jet images), not the callbacks.
#
# ## What this notebook showed
#
# Early stopping ended the training before its budget of epochs and gave back the
# weights of the epoch with the lowest validation loss; the best checkpoint, reloaded,
# has the same loss. The schedulers' learning rates are in the History, next to the losses.

# %% slideshow={"slide_type": "skip"}
assert model.count_params() == 235_146
assert best_epoch == int(np.argmin(history.history["val_loss"])) + 1
assert np.isclose(restored_val_loss, min(history.history["val_loss"]), rtol=1e-4), restored_val_loss
assert np.isclose(checkpoint_val_loss, min(history.history["val_loss"]), rtol=1e-4), checkpoint_val_loss
assert list(log["epoch"]) == list(range(epochs_run)) and "learning_rate" in log
assert histories["cosine decay"]["learning_rate"][-1] < 1e-3 / 2
if CHECK_CLAIMS:
    assert epochs_run < EPOCHS, "early stopping should stop before the budget"
    assert len(nan_history.history["loss"]) < 5 and not np.isfinite(nan_history.history["loss"][-1])
print("the lesson's claims hold")
