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
# # Over-training
#
# A network with 669,706 parameters can learn its training images by heart: the
# training loss keeps falling while the loss on images it has not seen stops improving
# and rises. Three classic remedies, as on the slides:
#
# * **L2 weight regularisation** (`kernel_regularizer=regularizers.l2(0.0001)`): large weights cost loss;
# * **BatchNormalization**: normalised activations between the layers;
# * **Dropout** (`layers.Dropout(rate=0.3)`): each training step switches off a random 30% of the nodes;
#
# and a smaller 256-128 network. We hold out 1/6 of the training images (10,000 of
# 60,000) for validation.

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

import keras
import numpy as np
from keras import layers, regularizers

from keraslab import check
from keraslab.day1 import fashion_mnist, figures

keras.utils.set_random_seed(0)

(train_images, train_labels), (test_images, test_labels) = fashion_mnist.load(DATA_DIR)
if SMALL:
    train_images, train_labels = train_images[:3000], train_labels[:3000]
train_images, test_images = train_images / 255.0, test_images / 255.0
epochs = 8 if SMALL else 20

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Five networks, the same data
#
# One function writes the slides' network with any of the remedies switched on.

# %% twin={"networks": "*"}
def fashion_mlp(hidden=(512, 512), l2=0.0, batch_norm=False, dropout=0.0):
    """Flatten -> Dense(relu) per entry of ``hidden`` (each with the chosen remedies) -> Dense(10, softmax)."""
    model = keras.Sequential([keras.Input(shape=(28, 28)), layers.Flatten()])
    for units in hidden:
        model.add(layers.Dense(units, activation="relu", kernel_regularizer=regularizers.l2(l2) if l2 else None))
        if batch_norm:
            model.add(layers.BatchNormalization())
        if dropout:
            model.add(layers.Dropout(rate=dropout))
    model.add(layers.Dense(10, activation="softmax"))
    return model


networks = {
    "fashion-mlp": fashion_mlp(),
    "fashion-mlp-l2": fashion_mlp(l2=1e-4),
    "fashion-mlp-batchnorm": fashion_mlp(batch_norm=True),
    "fashion-mlp-dropout": fashion_mlp(dropout=0.3),
    "fashion-mlp-small": fashion_mlp(hidden=(256, 128)),
}
for name, model in networks.items():
    print(f"{name:24s} {model.count_params():>9,d} parameters")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Each network trains for the same epochs on the same images; `validation_split=1/6`
# measures the loss on the held-out sixth after every epoch.

# %%
histories = {}
for name, model in networks.items():
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train_images, train_labels, batch_size=128, epochs=epochs, validation_split=1 / 6, verbose=0)
    histories[name] = history.history
    print(f"{name:24s} training loss {history.history['loss'][-1]:.3f}   "
          f"validation loss {history.history['val_loss'][-1]:.3f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# Solid: training loss; dashed: validation loss; the star is the lowest validation loss.

# %%
best_epochs = {name: int(np.argmin(history["val_loss"])) + 1 for name, history in histories.items()}
figures.overtraining_overlay(histories, best_epochs)

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 1: when should one interrupt training?
#
# From the plain network's history, `histories["fashion-mlp"]`, find the epoch whose
# weights you would keep, counted from 1 as Keras prints them: `stop_epoch`.

# %% tags=["exercise"]
stop_epoch = None  # your code here

# %% tags=["solution"]
stop_epoch = int(np.argmin(histories["fashion-mlp"]["val_loss"])) + 1

# %% tags=["check"]
check.stop_epoch(stop_epoch, histories["fashion-mlp"])

# %% [markdown] jupyter={"source_hidden": true}
# **Answer:** when the validation loss stops improving: the star on each curve. Later
# epochs only fit the training images better (over-training). The regularised networks
# (dropout above all) keep training and validation curves close for longer; the
# original lab reached about 0.90 with dropout after 50 epochs.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Early stopping in practice
#
# Keras' `EarlyStopping` callback watches the validation loss, stops after `patience`
# epochs without improvement and, with `restore_best_weights=True`, puts back the
# weights of the best epoch.

# %%
stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
early = fashion_mlp()
early.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
early_history = early.fit(train_images, train_labels, batch_size=128, epochs=2 * epochs, validation_split=1 / 6,
                          callbacks=[stopper], verbose=0)
early_epochs = len(early_history.history["loss"])
print(f"stopped after {early_epochs} of {2 * epochs} epochs; kept the weights of epoch {stopper.best_epoch + 1}")
print(f"test accuracy {early.evaluate(test_images, test_labels, verbose=0)[1]:.4f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 2: play with them!
#
# Write `remedy`, a network with the remedies of your choice (dropout rate, L2 factor,
# batch normalisation, fewer nodes, or a combination), train it like the others
# (`batch_size=128`, `epochs=epochs`, `validation_split=1 / 6`) and keep what `fit`
# returns as `remedy_history`. The check compares its gap between validation and
# training loss at the last epoch with the plain network's.

# %% tags=["exercise"]
remedy_history = None  # your code here

# %% tags=["solution"]
remedy = fashion_mlp(l2=1e-4, dropout=0.3)
remedy.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
remedy_history = remedy.fit(train_images, train_labels, batch_size=128, epochs=epochs, validation_split=1 / 6,
                            verbose=0)

# %% tags=["check"]
check.narrower_gap(remedy_history, histories["fashion-mlp"])

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What this notebook showed
#
# Dropout and L2 leave a smaller gap between validation and training loss than the
# plain network; early stopping stops before the epoch budget runs out and keeps the
# best weights.

# %% slideshow={"slide_type": "skip"}
def final_gap(history):
    return history["val_loss"][-1] - history["loss"][-1]


assert networks["fashion-mlp"].count_params() == 669_706
if CHECK_CLAIMS:
    plain_gap = final_gap(histories["fashion-mlp"])
    for remedy_name in ("fashion-mlp-dropout", "fashion-mlp-l2"):
        assert final_gap(histories[remedy_name]) < plain_gap, (remedy_name, final_gap(histories[remedy_name]), plain_gap)
    assert early_epochs < 2 * epochs, "early stopping should stop before the budget"
    assert stopper.best_epoch + 1 == int(np.argmin(early_history.history["val_loss"])) + 1
print("the lesson's claims hold")
