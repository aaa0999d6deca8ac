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
# # Fashion-MNIST: classifying images of clothes
#
# 70,000 grey images of 28x28 pixels (60,000 for training, 10,000 for testing) in ten
# classes, from Zalando Research. On a connected machine Keras downloads them with
# `keras.datasets.fashion_mnist.load_data()`; keraslab's `fashion_mnist.load` returns
# the same arrays from that download or from an offline copy (`DATA_DIR` below, or the
# environment variable `KERASLAB_FASHION_MNIST_DIR`), and checks every file.

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

# TensorFlow: the convolutional network at the end trains much faster than on JAX on a CPU (docs/day1.md);
# KERAS_BACKEND overrides, and JAX stands in where TensorFlow is not installed
select("tensorflow")

import keras
import matplotlib.pyplot as plt
import numpy as np
from keras import layers

from keraslab import check
from keraslab.day1 import fashion_mnist, figures

keras.utils.set_random_seed(0)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The data

# %%
(train_images, train_labels), (test_images, test_labels) = fashion_mnist.load(DATA_DIR)
if SMALL:
    train_images, train_labels = train_images[:3000], train_labels[:3000]
class_names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
print(train_images.shape, train_images.dtype, "training images;", test_images.shape[0], "test images")

# %% [markdown] slideshow={"slide_type": "subslide"}
# A look at the first training images and their classes:

# %%
fig, axes = plt.subplots(2, 6, figsize=(10, 4))
for ax, image, label in zip(axes.flat, train_images, train_labels):
    ax.imshow(image, cmap="binary")
    ax.set_title(class_names[label], fontsize=9)
    ax.axis("off")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Pixels go from 0..255 to 0..1, the scale networks train best on:

# %%
train_images = train_images / 255.0
test_images = test_images / 255.0

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The slides' network
#
# `Flatten` turns each 28x28 image into 784 numbers; two Dense(512, relu) layers; a
# softmax over the ten classes gives ten probabilities that sum to one: 669,706
# parameters. The labels are integers 0..9, hence the *sparse* categorical
# cross-entropy.

# %% twin={"model": "fashion-mlp"}
model = keras.Sequential([
    keras.Input(shape=(28, 28)),
    layers.Flatten(),
    layers.Dense(512, activation="relu"),
    layers.Dense(512, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
model.summary()

# %%
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(train_images, train_labels, batch_size=32, epochs=1 if SMALL else 5)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Evaluation on the test set

# %%
test_loss, test_accuracy = model.evaluate(test_images, test_labels, verbose=0)
print(f"test accuracy {test_accuracy:.4f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# `predict` gives ten probabilities per image; the class with the largest is the answer.
# The first test images (blue: right, red: wrong; the true class in brackets):

# %%
predictions = model.predict(test_images, verbose=0)
figures.prediction_grid(test_images, test_labels, predictions, class_names)

# %% slideshow={"slide_type": "subslide"}
figures.confusion_matrix(test_labels, predictions.argmax(axis=1), class_names)

# %% [markdown]
# **Q:** which classes get confused, and why?

# %% [markdown] jupyter={"source_hidden": true}
# **Answer:** shirts with T-shirts, pullovers and coats: at 28x28 pixels in grey they
# share the same outline, and a dense network sees only pixel intensities, not shapes.
# Trousers, bags and ankle boots are almost never wrong: their outlines are unique.

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 1: a dense network with a test accuracy of at least 0.88
#
# Five epochs of the slides' network land near 0.88, sometimes above, sometimes below.
# Train `my_classifier`, a network of Dense layers, so that it is reliably above: play
# with the epochs, the batch size, the learning rate and the layers.

# %% tags=["exercise"]
my_classifier = None  # your code here

# %% tags=["solution"]
my_classifier = keras.Sequential([keras.Input(shape=(28, 28)), layers.Flatten(),
                                  layers.Dense(512, activation="relu"), layers.Dense(512, activation="relu"),
                                  layers.Dense(10, activation="softmax")])
my_classifier.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
my_classifier.fit(train_images, train_labels, batch_size=128, epochs=1 if SMALL else 15, verbose=0)

# %% tags=["check"]
check.fashion_accuracy(my_classifier, test_images, test_labels)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Improve it!
#
# **Q:** how can the network do better?

# %% [markdown] jupyter={"source_hidden": true}
# **Answer:** a dense network ignores that neighbouring pixels belong together. A
# convolutional network (CNN) learns small local filters (edges, textures) shared over
# the whole image, with far fewer weights per layer. Pooling makes it tolerant to small
# shifts. More epochs, dropout, a decaying learning rate and data augmentation help
# further.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2: a CNN with a test accuracy of at least 0.91
#
# Write `my_cnn` with `layers.Conv2D` and `layers.MaxPooling2D` (the images need a
# channel axis first: `layers.Reshape((28, 28, 1))`), train it and check it.
# `keraslab run cnn` trains keraslab's CNN from the command line with the same recipe:
# Adam whose learning rate falls from 3e-3 to 0 along a cosine
# (`keras.optimizers.schedules.CosineDecay`), batch 128, 9 epochs; it reaches about
# 0.93.

# %% tags=["exercise"]
my_cnn = None  # your code here

# %% tags=["solution"] twin={"my_cnn": "fashion-cnn"}
my_cnn = keras.Sequential([
    keras.Input(shape=(28, 28)),
    layers.Reshape((28, 28, 1)),  # one channel: grey
    layers.Conv2D(32, 3, padding="same", activation="relu"),
    layers.MaxPooling2D(),
    layers.Conv2D(64, 3, activation="relu"),
    layers.MaxPooling2D(),
    layers.Flatten(),
    layers.Dropout(0.3),
    layers.Dense(128, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
my_cnn.summary()

# %% tags=["solution"] recipe="cnn"
batch_size = 128
epochs = 3 if SMALL else 9  # SMALL: 72 steps, fewer than the dense network's 94
learning_rate = 3e-3  # the peak, at the start; the cosine brings it to 0 at the last batch
steps = epochs * int(np.ceil(len(train_images) / batch_size))
my_cnn.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(learning_rate, steps)),
               loss="sparse_categorical_crossentropy", metrics=["accuracy"])
my_cnn.fit(train_images, train_labels, batch_size=batch_size, epochs=epochs, verbose=0)

# %% tags=["check"]
check.cnn_accuracy(my_cnn, test_images, test_labels)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What this notebook showed
#
# The slides' network has 669,706 parameters and learns far better than guessing
# (0.1 for ten classes); on the same images the CNN does better still.

# %% slideshow={"slide_type": "skip"}
assert model.count_params() == 669_706, model.count_params()
assert np.allclose(predictions.sum(axis=1), 1, atol=1e-4), "softmax outputs must sum to one"
if CHECK_CLAIMS:
    assert test_accuracy > 0.5, test_accuracy
    if my_cnn is not None:  # the tutor edition, or a student who wrote exercise 2
        cnn_test_accuracy = my_cnn.evaluate(test_images, test_labels, verbose=0)[1]
        assert cnn_test_accuracy > test_accuracy, (cnn_test_accuracy, test_accuracy)
print("the lesson's claims hold")
