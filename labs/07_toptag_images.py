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

# %% [markdown] slideshow={"slide_type": "slide"}
# # Day two, part 2: jet images and convolutional networks
#
# A calorimeter is a grid of cells, so a jet can be drawn as an **image**: the pT in
# each cell of a 40 × 40 grid in (η, φ) around the jet axis, centred and rotated so the
# jet's principal axis is vertical (done by `keraslab toptag generate`). A top jet
# should look like three blobs, a QCD jet like one. Convolutional networks (CNNs) are
# built to find such local patterns anywhere in an image.
#
# This notebook follows the original lab: the average images, convolution and pooling
# explained, a dense network on the flattened image, then the lab's small CNN (which you
# write), an improved CNN, and the challenge: the best tagger's scores for the hidden
# jets, uploaded to the class leaderboard. An appendix applies the classic
# image-processing kernels to the average top jet.

# %% tags=["parameters"] slideshow={"slide_type": "skip"}
DATA = "data/jets"  # a jets folder made by `keraslab toptag generate --jets 20000 --out data/jets`
N_JETS = 10_000  # training jets
EPOCHS = 5  # as in the lab
DNN_EPOCHS = 10  # the first notebook's DNN, for comparison
SMALL = False  # True: a few hundred jets and one epoch (for CI)

# %% slideshow={"slide_type": "skip"}
import importlib.util

if importlib.util.find_spec("keraslab") is None:  # e.g. a fresh Colab or JupyterHub kernel
    raise SystemExit("keraslab is not installed in this kernel: pip install the class's keraslab wheel "
                     "(README, 'Notebooks on a hosted Jupyter'), then restart the kernel")

# %% slideshow={"slide_type": "skip"}
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")  # TensorFlow trains the CNNs faster on a CPU (docs/toptag.md)
if SMALL:
    N_JETS, EPOCHS, DNN_EPOCHS = None, 1, 1  # all jets of the tiny test folder

import keras
import matplotlib.pyplot as plt
import mplhep
import numpy as np
from keras import layers
from matplotlib.colors import LogNorm

from keraslab import check
from keraslab.challenge import client
from keraslab.metrics import classifier_summary
from keraslab.toptag import figures, inputs, networks
from keraslab.toptag.auc import auc_difference, auc_with_uncertainty

mplhep.style.use("ROOT")
keras.utils.set_random_seed(0)  # the same initial weights at every run

# %%
x_train, y_train = inputs.load_inputs("image", DATA, "train", n_jets=N_JETS)
x_val, y_val = inputs.load_inputs("image", DATA, "val")
x_test, y_test = inputs.load_inputs("image", DATA, "test")
print(x_train.shape, "images; each pixel is the fraction of the jet's pT in that cell")

# %% [markdown] slideshow={"slide_type": "slide"}
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

# %% [markdown] slideshow={"slide_type": "slide"}
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

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. A dense network on the flattened image
#
# First, forget that the pixels form an image: 1600 numbers into Dense(50) → Dense(2).
# The lab found AUC ≈ 0.905. Every image tagger below is compiled and trained the same
# way, so that is written once:

# %%
def train(model, epochs=EPOCHS):
    """Compile and fit an image tagger as the lab does; return its history and its test scores."""
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, inputs.one_hot(y_train), validation_data=(x_val, inputs.one_hot(y_val)),
                        epochs=epochs, batch_size=128)
    scores = model.predict(x_test, verbose=0)[:, 1]
    print(f"AUC {auc_with_uncertainty(y_test, scores)}", classifier_summary(y_test, scores))
    return history, scores


# %% twin={"dense": "toptag-image-dense"}
dense = keras.Sequential([
    keras.Input(shape=(40, 40, 1)),
    layers.Flatten(),  # 1600 pixels in a row: the image's shape is forgotten
    layers.Dense(50, activation="relu"),
    layers.Dense(2, activation="softmax"),
])

# %%
dense_history, dense_scores = train(dense)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. The lab's CNN
#
# Conv2D(8 filters, 4 × 4, padding "same", relu) → MaxPooling2D(2) → Flatten →
# Dense(2, softmax). The lab found AUC ≈ 0.919 after 5 epochs.
#
# ### Exercise: write the lab's CNN
#
# Write it with `keras.Sequential`, starting from `keras.Input(shape=(40, 40, 1))`, and
# call `my_cnn.summary()`: it has 6,538 parameters. Where do they sit?

# %% tags=["exercise"]
my_cnn = None  # your code here: my_cnn = keras.Sequential([keras.Input(shape=(40, 40, 1)), ...])

# %% tags=["solution"] twin={"my_cnn": "toptag-cnn"}
my_cnn = keras.Sequential([
    keras.Input(shape=(40, 40, 1)),
    layers.Conv2D(8, 4, padding="same", activation="relu"),  # 8 · (4·4 + 1) = 136 parameters
    layers.MaxPooling2D(2),  # 40x40 -> 20x20
    layers.Flatten(),  # 20·20·8 = 3200 numbers
    layers.Dense(2, activation="softmax"),  # 3200·2 + 2 = 6,402 parameters
])
my_cnn.summary()

# %% tags=["check"]
check.lab_cnn(my_cnn)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The lesson goes on with keraslab's copy of the lab's CNN (`networks.cnn`, the network
# the check compares yours with), so it runs whatever your exercise cell holds:

# %%
cnn = networks.build("toptag-cnn")
cnn_history, cnn_scores = train(cnn)
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for ax, metric in zip(axes, ("loss", "accuracy")):
    ax.plot(cnn_history.history[metric], "o-", label="training")
    ax.plot(cnn_history.history[f"val_{metric}"], "s--", label="validation")
    ax.set(xlabel="epoch", ylabel=metric, title="the lab's CNN")
    ax.legend()

# %%
fig, ax = plt.subplots(figsize=(7, 5))
figures.signal_probability(y_test, cnn_scores, ax=ax, title="the lab's CNN")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. A better CNN
#
# The lab's suggestions: more filters, more convolution layers, larger dense layers,
# Dropout(0.3), early stopping. `toptag-cnn-improved` does this in the style of the
# published image taggers (DeepTop): two pairs of 3 × 3 convolutions (32, 32, 64, 64
# filters), each pair followed by 2 × 2 pooling, then Dense(64) → Dense(64) with dropout.

# %%
improved = networks.build("toptag-cnn-improved")
improved.summary()
improved_history, improved_scores = train(improved, epochs=EPOCHS if SMALL else 3 * EPOCHS)

# %% [markdown] slideshow={"slide_type": "subslide"}
# For comparison, the first notebook's DNN on the 20 constituents (keraslab's copy,
# `networks.dnn`), trained on the same jets and scored on the same test jets:

# %%
c_train, _ = inputs.load_inputs("constituents20", DATA, "train", n_jets=N_JETS)
c_val, _ = inputs.load_inputs("constituents20", DATA, "val")
c_test, c_test_labels = inputs.load_inputs("constituents20", DATA, "test")
assert np.array_equal(c_test_labels, y_test)  # the constituents and images files hold the same jets, in order
dnn = networks.build("toptag-dnn")
dnn.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
dnn.fit(c_train, inputs.one_hot(y_train), validation_data=(c_val, inputs.one_hot(y_val)), epochs=DNN_EPOCHS,
        batch_size=128, verbose=0)
dnn_scores = dnn.predict(c_test, verbose=0)[:, 1]
cnn_gain = auc_difference(y_test, cnn_scores, dnn_scores)  # on the same jets: the shared fluctuations cancel
print(f"the lab's CNN: AUC {cnn_gain} above the DNN's {auc_with_uncertainty(y_test, dnn_scores)}")

fig, ax = plt.subplots(figsize=(8, 5.5))
figures.rejection_curves({"DNN, 20 constituents": (y_test, dnn_scores), "dense on the image": (y_test, dense_scores),
                          "the lab's CNN": (y_test, cnn_scores), "improved CNN": (y_test, improved_scores)}, ax=ax)

# %% [markdown] jupyter={"source_hidden": true}
# **Question: the improved CNN has ~70 times more parameters. Why does it not simply
# overfit?** Small kernels are shared over the whole image, pooling makes the features
# insensitive to small shifts, and dropout stops single units from memorising jets.
# Watch the validation loss: with few jets it *does* overfit, which is what early
# stopping is for.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. The challenge
#
# The original lab ended with a challenge: predict the top probability for jets whose
# truth is hidden, one score per jet **in file order**; the best AUC wins. Your tutor runs
# the leaderboard server (`keraslab challenge serve`, see `docs/challenge.md`) and gives
# your team its address and a token.
#
# Which tagger? The one with the best AUC on the **validation** jets: choosing on the
# test jets would make their AUC an optimistic estimate of the challenge's.

# %%
taggers = {"dense on the image": dense, "the lab's CNN": cnn, "improved CNN": improved}
validation_auc = {name: auc_with_uncertainty(y_val, model.predict(x_val, verbose=0)[:, 1])
                  for name, model in taggers.items()}
best = max(validation_auc, key=lambda name: validation_auc[name].value)
print("validation AUC:", {name: str(auc) for name, auc in validation_auc.items()}, "-> best:", best)

x_challenge, _ = inputs.load_inputs("image", DATA, "challenge")  # the truth is not in the file
challenge_scores = taggers[best].predict(x_challenge, verbose=0)[:, 1]
np.save("result.npy", challenge_scores.astype("float32"))  # the file the original lab handed in
print(f"{len(challenge_scores)} challenge jets scored by the {best}; saved to result.npy")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The server's address and your team's token (the tutor prints one per team with
# `keraslab challenge team add TEAM --db ...`):

# %%
SERVER = "http://127.0.0.1:8000"
TOKEN = None  # your team's token, as a string

# %%
if TOKEN is None:
    print("No upload: set TOKEN to your team's token (ask your tutor, who creates it with "
          "`keraslab challenge team add TEAM --db ...`) and SERVER to the address they give, then run this cell again.")
else:
    reply = client.submit(SERVER, TOKEN, challenge_scores)
    print(client.describe_submission(reply))

# %% [markdown]
# From the shell, the same: `keraslab challenge submit result.npy --server SERVER --token TOKEN`.
# A network trained with `keraslab run NAME --data DIR --out RUN` scores the challenge file
# with `keraslab toptag predict --model RUN --data DIR/challenge.h5 --out result.npy`.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What this notebook showed, checked
#
# At full size (10,000 training jets) the lab's CNN beats the DNN on the constituents by
# many standard deviations, as in the original lab; on the few hundred jets of a quick
# test run only the sizes and the sanity of the outputs can be asserted. The cell fails
# if a claim does not hold.

# %% tags=["claims"]
claims = {
    "the dense network on the image has 80,152 parameters, as keraslab's toptag-image-dense":
        dense.count_params() == networks.build("toptag-image-dense").count_params() == 80_152,
    "the lab's CNN has 6,538 parameters": cnn.count_params() == 6_538,
    "every epoch's training loss is finite": all(np.all(np.isfinite(h.history["loss"]))
                                                 for h in (dense_history, cnn_history, improved_history)),
    "one probability per challenge jet": challenge_scores.shape == (len(x_challenge),)
        and np.all((challenge_scores >= 0) & (challenge_scores <= 1)),
}
if not SMALL:
    claims["the lab's CNN beats the DNN on 20 constituents by more than 2 standard deviations"] = \
        cnn_gain.significance > 2
for claim, holds in claims.items():
    print(f"{'holds' if holds else 'FAILS'}  {claim}")
assert all(claims.values()), [claim for claim, holds in claims.items() if not holds]

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Appendix: classic kernels on the average top jet
#
# Before CNNs, image processing used hand-made kernels. Applied to the average top-jet
# image (log scale, so the faint prongs count), they show what a learned filter could
# pick up: edges outline the prongs, sharpening separates them, blurring merges them.

# %%
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
