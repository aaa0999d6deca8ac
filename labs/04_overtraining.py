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

# %% [markdown]
# # Over-training
#
# A network with 669,706 parameters can learn its 60,000 training images by heart:
# the training loss keeps falling while the loss on images it has not seen stops
# improving and rises. Three classic remedies, as on the slides:
#
# * **L2 weight regularisation** (1e-4): large weights cost loss;
# * **BatchNormalization**: normalised activations between the layers;
# * **Dropout(0.3)**: each training step switches off a random 30% of the nodes;
#
# and a smaller 256-128 network. We hold out 10,000 training images for validation.

# %% tags=["parameters"]
SMALL = False  # True: a reduced run (used by the tests)
DATA_DIR = None  # folder with the four IDX .gz files; None: $KERASLAB_FASHION_MNIST_DIR or Keras' cache

# %%
from keraslab.backend import select

select("jax")

import keras
from IPython.display import Image

from keraslab import fashion_mnist, models, plots, training
from keraslab.day1.parts import best_epoch
from keraslab.day1.settings import OVERTRAINING_VARIANTS

epochs = 2 if SMALL else 20
(train_images, train_labels), (test_images, test_labels) = fashion_mnist.load(DATA_DIR)
if SMALL:
    train_images, train_labels = train_images[:2000], train_labels[:2000]
x_train, x_test = fashion_mnist.scale(train_images), fashion_mnist.scale(test_images)

# %% [markdown]
# ## Five networks, the same data

# %%
for name in OVERTRAINING_VARIANTS:
    print(f"{name:24s} {models.build(name).count_params():>9,d} parameters")

# %%
histories = {}
for name in OVERTRAINING_VARIANTS:
    model = models.compile_for(models.build(name), name, steps_per_execution=32)
    run_dir = training.prepare_run_dir(f"runs/notebook-overtraining/{name}", overwrite=True)
    result = training.fit_run(model, (x_train, train_labels), run_dir=run_dir, epochs=epochs, batch_size=128,
                              validation=1 / 6, verbose=0)
    histories[name] = result.history
    print(f"{name:24s} validation accuracy {result.final['val_accuracy']:.4f}")

# %%
best = {name: best_epoch(history["val_loss"]) for name, history in histories.items()}
Image(plots.overtraining_overlay(histories, best, "runs/notebook-overtraining/overtraining.png"))

# %% [markdown]
# **Q:** when should one interrupt training?

# %% [markdown] jupyter={"source_hidden": true}
# **Answer:** when the validation loss stops improving: that is the star on each curve.
# Later epochs only fit the training images better (over-training). Keras does this
# with `keras.callbacks.EarlyStopping(monitor="val_loss", patience=3,
# restore_best_weights=True)`: stop after 3 epochs without improvement and keep the
# best weights. The regularised networks (dropout above all) keep training and
# validation curves close for longer; the original lab reached about 0.90 with dropout
# after 50 epochs, and the smaller 256-128 network narrows the gap as well.

# %% [markdown]
# Early stopping in practice:

# %%
model = models.compile_for(models.build("fashion-mlp-dropout"), "fashion-mlp-dropout", steps_per_execution=32)
stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
run_dir = training.prepare_run_dir("runs/notebook-early-stopping", overwrite=True)
result = training.fit_run(model, (x_train, train_labels), run_dir=run_dir, epochs=epochs * 2, batch_size=128,
                          validation=1 / 6, callbacks=[stop], verbose=0)
test_accuracy = model.evaluate(x_test, test_labels, verbose=0)[1]
print(f"stopped after {result.epochs_run} epochs; test accuracy {test_accuracy:.4f}")
