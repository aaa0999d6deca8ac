# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Day two, part 2: jet images and convolutional networks
#
# A calorimeter is a grid of cells, so a jet can be drawn as an **image**: the pT in
# each cell of a 40 × 40 grid in (η, φ) around the jet axis, centred and rotated so the
# jet's principal axis is vertical (done by `keraslab toptag generate`). A top jet
# should look like three blobs, a QCD jet like one. Convolutional networks (CNNs) are
# built to find such local patterns anywhere in an image.
#
# This notebook follows the original lab: the average images, convolution and pooling
# explained, a dense network on the flattened image, then the lab's small CNN, an
# improved CNN, and the challenge. An appendix applies the classic image-processing
# kernels to the average top jet.

# %% tags=["parameters"]
DATA = "data/jets"  # a jets folder made by `keraslab toptag generate --jets 20000 --out data/jets`
N_JETS = 10_000  # training jets
EPOCHS = 5  # as in the lab
SMALL = False  # True: a few hundred jets and one epoch (for CI)

# %%
# %matplotlib inline
if SMALL:
    N_JETS, EPOCHS = None, 1  # all jets of the tiny test folder

from pathlib import Path

import keras
import matplotlib.pyplot as plt
import mplhep
import numpy as np
from matplotlib.colors import LogNorm

from keraslab.metrics import classifier_summary
from keraslab.toptag import figures, inputs, networks

mplhep.style.use("ROOT")

# %%
x_train, y_train = inputs.load_inputs("image", DATA, "train", n_jets=N_JETS)
x_val, y_val = inputs.load_inputs("image", DATA, "val")
x_test, y_test = inputs.load_inputs("image", DATA, "test")
print(x_train.shape, "images; each pixel is the fraction of the jet's pT in that cell")

# %% [markdown]
# ## 1. What the network sees: one jet, and the average of many

# %%
def show(image, ax, title):
    """A jet image on a log colour scale (pT fractions span four decades)."""
    shown = ax.imshow(np.squeeze(image) + 1e-6, norm=LogNorm(1e-4, 1), cmap="viridis", origin="lower")
    ax.set(title=title, xticks=[], yticks=[])
    return shown


fig, axes = plt.subplots(1, 4, figsize=(18, 4.5))
show(x_train[np.flatnonzero(y_train == 1)[0]], axes[0], "one top jet")
show(x_train[np.flatnonzero(y_train == 0)[0]], axes[1], "one QCD jet")
average_top = x_train[y_train == 1].mean(axis=0)
average_qcd = x_train[y_train == 0].mean(axis=0)
show(average_top, axes[2], "average top jet")
fig.colorbar(show(average_qcd, axes[3], "average QCD jet"), ax=axes, fraction=0.02);

# %% [markdown]
# Single jets are sparse: a few dozen lit cells. On average, the top jets show the hard
# core plus a second and third prong along the rotated axis; QCD jets are one core with
# a soft halo.

# %% [markdown]
# ## 2. Convolution and pooling, by hand
#
# A **convolution** slides a small kernel (here 3 × 3) over the image and, at each
# position, writes the sum of the pixels weighted by the kernel. With padding "same" the
# output keeps the image's size. A Conv2D layer *learns* its kernels, one per filter.
# **Max pooling** keeps the largest value of each 2 × 2 block: the image shrinks by
# two, and a feature found anywhere in the block survives.

# %%
toy = np.zeros((1, 6, 6, 1), "float32")
toy[0, 1:5, 2, 0] = 1.0  # a vertical bar
vertical_edges = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], "float32").reshape(3, 3, 1, 1)
convolved = keras.ops.conv(toy, vertical_edges, padding="same")
pooled = keras.layers.MaxPooling2D(2)(convolved)
fig, axes = plt.subplots(1, 3, figsize=(13, 4))
for ax, image, title in [(axes[0], toy, "input 6x6"), (axes[1], convolved, "convolved (edges)"), (axes[2], pooled, "max-pooled 3x3")]:
    ax.imshow(np.squeeze(keras.ops.convert_to_numpy(image)), cmap="coolwarm", vmin=-2, vmax=2)
    ax.set(title=title, xticks=[], yticks=[])

# %% [markdown] jupyter={"source_hidden": true}
# **Question: why do CNNs need far fewer parameters than dense networks on images?**
# A kernel's weights are shared across all positions: a 4 × 4 kernel has 16 weights
# however large the image, while a dense layer needs one weight per pixel and unit
# (1600 × 50 = 80,000 for the first layer of the dense network below).

# %% [markdown]
# ## 3. A dense network on the flattened image
#
# First, forget that the pixels form an image: 1600 numbers into Dense(50) → Dense(2).
# The lab found AUC ≈ 0.905.

# %%
def train(name, epochs=EPOCHS):
    """Build a network from the package, train it, return (model, history, test scores)."""
    model = networks.build(name)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, inputs.one_hot(y_train), validation_data=(x_val, inputs.one_hot(y_val)),
                        epochs=epochs, batch_size=128)
    scores = model.predict(x_test, verbose=0)[:, 1]
    print(name, classifier_summary(y_test, scores))
    return model, history, scores


dense, dense_history, dense_scores = train("toptag-image-dense")

# %% [markdown]
# ## 4. The lab's CNN
#
# Conv2D(8 filters, 4 × 4, same, relu) → MaxPooling2D(2) → Flatten → Dense(2, softmax):
# 6,538 parameters (8 · (4·4 + 1) = 136 in the convolution, 20·20·8·2 + 2 = 6,402 in the
# output). The lab found AUC ≈ 0.919 after 5 epochs.

# %%
networks.build("toptag-cnn").summary()

# %%
cnn, cnn_history, cnn_scores = train("toptag-cnn")
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for ax, metric in zip(axes, ("loss", "accuracy")):
    ax.plot(cnn_history.history[metric], "o-", label="training")
    ax.plot(cnn_history.history[f"val_{metric}"], "s--", label="validation")
    ax.set(xlabel="epoch", ylabel=metric, title="the lab's CNN")
    ax.legend()

# %%
fig, ax = plt.subplots(figsize=(7, 5))
figures.signal_probability(y_test, cnn_scores, ax=ax, title="the lab's CNN")

# %% [markdown]
# ## 5. A better CNN
#
# The lab's suggestions: more filters, more convolution layers, larger dense layers,
# Dropout(0.3), early stopping. `toptag-cnn-improved` does this in the style of the
# published image taggers (DeepTop): two pairs of 3 × 3 convolutions (32, 32, 64, 64
# filters), each pair followed by 2 × 2 pooling, then Dense(64) → Dense(64) with dropout.

# %%
improved, improved_history, improved_scores = train("toptag-cnn-improved", epochs=EPOCHS if SMALL else 3 * EPOCHS)
fig, ax = plt.subplots(figsize=(8, 5.5))
figures.rejection_curves({"dense on the image": (y_test, dense_scores), "the lab's CNN": (y_test, cnn_scores),
                          "improved CNN": (y_test, improved_scores)}, ax=ax)

# %% [markdown] jupyter={"source_hidden": true}
# **Question: the improved CNN has ~70 times more parameters. Why does it not simply
# overfit?** Small kernels are shared over the whole image, pooling makes the features
# insensitive to small shifts, and dropout stops single units from memorising jets.
# Watch the validation loss: with few jets it *does* overfit, which is what early
# stopping is for.

# %% [markdown]
# ## 6. The challenge
#
# The original lab ended with a challenge: predict the top probability for jets whose
# truth is hidden, save one float per jet **in file order** as `result.npy`, zip it, hand
# it in; the best AUC wins. Train your best network into a run folder and let
# `keraslab toptag predict` write the file, checked by the challenge server's own
# validator (it refuses to overwrite an existing file unless told so):
#
# ```
# keraslab run toptag-cnn-improved --data data/jets --out runs/my-cnn
# keraslab toptag predict --model runs/my-cnn --data data/jets/challenge.h5 --out result.npy
# ```
#
# The same from Python:

# %%
from keraslab.toptag.prediction import predict_file
from keraslab.toptag.runs import TrainingOptions
from keraslab.toptag.runs import train as train_run

run_dir = Path("runs/notebook-cnn")
train_run("toptag-cnn", Path(DATA), run_dir, TrainingOptions(jets=N_JETS, epochs=EPOCHS), overwrite=True)
scores = predict_file(run_dir, Path(DATA) / "challenge.h5", Path("result.npy"), overwrite=True)  # deliberate: rerunning the cell replaces it
print(scores[:5])

# %% [markdown]
# ## Appendix: classic kernels on the average top jet
#
# Before CNNs, image processing used hand-made kernels. Applied to the average top-jet
# image (log scale, so the faint prongs count), they show what a learned filter could
# pick up: edges outline the prongs, sharpening separates them, blurring merges them.

# %%
# %matplotlib inline
# (again: the run-folder code used by the challenge cell switches matplotlib to file output)
KERNELS = {
    "edge detection": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "box blur": np.full((3, 3), 1 / 9),
    "Gaussian blur": np.outer([1, 2, 1], [1, 2, 1]) / 16,
}
log_image = (np.log10(average_top + 1e-5) + 5)[None]  # (1, 40, 40, 1); empty pixels 0, like the zero padding
fig, axes = plt.subplots(1, 5, figsize=(22, 4.5))
axes[0].imshow(np.squeeze(log_image), origin="lower")
axes[0].set(title="average top (log)", xticks=[], yticks=[])
for ax, (name, kernel) in zip(axes[1:], KERNELS.items()):
    filtered = keras.ops.conv(log_image.astype("float32"), np.asarray(kernel, "float32").reshape(3, 3, 1, 1), padding="same")
    ax.imshow(np.squeeze(keras.ops.convert_to_numpy(filtered)), origin="lower")
    ax.set(title=name, xticks=[], yticks=[])
