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
# # Fashion-MNIST: classifying images of clothes
#
# 70,000 grey images of 28x28 pixels (60,000 for training, 10,000 for testing) in ten
# classes, from Zalando Research. Keras downloads them once; an offline copy can be
# given with `DATA_DIR` below or the environment variable `KERASLAB_FASHION_MNIST_DIR`.
# Every file is checked against its published SHA-256.

# %% tags=["parameters"]
SMALL = False  # True: a reduced run (used by the tests)
DATA_DIR = None  # folder with the four IDX .gz files; None: $KERASLAB_FASHION_MNIST_DIR or Keras' cache

# %%
from keraslab.backend import select

select("jax")  # the faster Keras backend for this dense network on a CPU

import matplotlib.pyplot as plt
from IPython.display import Image

from keraslab import fashion_mnist, models, plots, training

# %%
((train_images, train_labels), (test_images, test_labels)), source = fashion_mnist.load_with_source(DATA_DIR)
if SMALL:
    train_images, train_labels = train_images[:2000], train_labels[:2000]
print(f"{len(train_images)} training and {len(test_images)} test images; files: {source}")

# %% [markdown]
# A look at the first training images and their classes:

# %%
fig, axes = plt.subplots(2, 6, figsize=(10, 4))
for ax, image, label in zip(axes.flat, train_images, train_labels):
    ax.imshow(image, cmap="binary")
    ax.set_title(fashion_mnist.CLASS_NAMES[label], fontsize=9)
    ax.axis("off")

# %% [markdown]
# Pixels go from 0..255 to 0..1, the scale networks train best on:

# %%
x_train, x_test = fashion_mnist.scale(train_images), fashion_mnist.scale(test_images)

# %% [markdown]
# ## The slides' network
#
# Flatten the image to 784 numbers, two Dense(512, relu) layers, and a softmax over
# the ten classes: 669,706 parameters. Adam, sparse categorical cross-entropy
# (the labels are integers 0..9).

# %%
model = models.build("fashion-mlp")
models.compile_for(model, "fashion-mlp")
model.summary()

# %%
run_dir = training.prepare_run_dir("runs/notebook-fashion-mnist", overwrite=True)
result = training.fit_run(model, (x_train, train_labels), run_dir=run_dir, epochs=1 if SMALL else 5, batch_size=32)

# %% [markdown]
# ## Evaluation on the test set

# %%
test_loss, test_accuracy = model.evaluate(x_test, test_labels, verbose=0)
print(f"test accuracy {test_accuracy:.4f} ({source})")

# %% [markdown]
# Predictions for the first test images (blue: right, red: wrong; the true class in brackets):

# %%
probabilities = model.predict(x_test, verbose=0)
Image(plots.prediction_grid(test_images, test_labels, probabilities, fashion_mnist.CLASS_NAMES, run_dir / "predictions.png"))

# %%
Image(plots.confusion_matrix(test_labels, probabilities.argmax(axis=1), fashion_mnist.CLASS_NAMES, run_dir / "confusion_matrix.png"))

# %% [markdown]
# **Q:** which classes get confused, and why?

# %% [markdown] jupyter={"source_hidden": true}
# **Answer:** shirts with T-shirts, pullovers and coats: at 28x28 pixels in grey they
# share the same outline, and a dense network sees only pixel intensities, not shapes.
# Trousers, bags and ankle boots are almost never wrong: their outlines are unique.

# %% [markdown]
# ## Improve it!
#
# **Q:** how can the network do better?

# %% [markdown] jupyter={"source_hidden": true}
# **Answer:** a dense network ignores that neighbouring pixels belong together. A
# convolutional network learns small local filters (edges, textures) shared over the
# whole image, with far fewer parameters. keraslab's `fashion-cnn` (two Conv2D/MaxPool
# blocks, Dropout, Dense(128)) reaches a test accuracy of about 0.93 in 9 epochs:
# `keraslab run cnn`, which uses the TensorFlow backend, about 5x faster than JAX for
# convolutions on a CPU. More epochs, dropout and data augmentation help further.

# %%
cnn = models.build("fashion-cnn")
models.compile_for(cnn, "fashion-cnn", steps_per_execution=32)
run_dir = training.prepare_run_dir("runs/notebook-fashion-cnn", overwrite=True)
cnn_result = training.fit_run(cnn, (x_train, train_labels), run_dir=run_dir, epochs=1 if SMALL else 2, batch_size=128)
print(f"CNN test accuracy after {cnn_result.epochs_run} epochs: {cnn.evaluate(x_test, test_labels, verbose=0)[1]:.4f}")
