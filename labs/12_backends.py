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
# # Alternative libraries: one Keras model on TensorFlow, JAX and PyTorch
#
# Keras 3 is a front end: the same `keras.Sequential`, `compile` and `fit` run on three
# libraries that do the arithmetic, its *backends*: TensorFlow (Google, the slides'),
# JAX (Google; NumPy's interface, compiled by XLA) and PyTorch (Meta). keraslab installs
# TensorFlow and JAX; PyTorch comes with `pip install 'keraslab[torch]'` (3 GB of wheels
# on Linux, most of them NVIDIA's CUDA libraries; the README lists every install's size).
#
# This lesson trains the slides' Fashion-MNIST network on each installed backend,
# moves its weights from one backend to another in a `.keras` file, and finally writes
# the training loop by hand in JAX, to see what `fit` does for us.

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
import sys
import time
from pathlib import Path

from keraslab.backend import select

# JAX in this kernel: the hand-written training loop at the end uses it directly;
# KERAS_BACKEND overrides, and TensorFlow stands in where JAX is not installed
select("jax")

import jax
import jax.numpy as jnp
import keras
import numpy as np
from keras import layers

from keraslab.beyond import backends
from keraslab.check import backends as check
from keraslab.day1 import fashion_mnist

keras.utils.set_random_seed(0)
WORK = Path("backends_lesson")  # this lesson's files: saved models, predictions
WORK.mkdir(exist_ok=True)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## One backend per Python process
#
# Keras reads the environment variable `KERAS_BACKEND` once, at `import keras`; after
# that the backend of this process is fixed. This kernel runs on:

# %%
here = keras.backend.backend()
print("this kernel:", here)

# %% [markdown]
# A new Python process can choose another one (`!` runs a shell command from the notebook,
# in the syntax of the Linux and macOS shells, as on Colab and JupyterHub; `{sys.executable}`
# is this kernel's Python):

# %%
# !KERAS_BACKEND=tensorflow {sys.executable} -c "import keras; print('a new process:', keras.backend.backend())"

# %% [markdown] slideshow={"slide_type": "subslide"}
# Which backends are installed here:

# %%
versions = backends.installed()
for backend, version in versions.items():
    print(f"{backend:10s}", version or f"not installed ({backends.missing_hint(backend)})")
installed = [backend for backend, version in versions.items() if version]

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The data and the slides' network
#
# Fashion-MNIST as in labs/03: 28x28 grey images of clothes in ten classes, pixels
# scaled to 0..1 (as float32, the precision every backend computes in).

# %%
(train_images, train_labels), (test_images, test_labels) = fashion_mnist.load(DATA_DIR)
TRAIN_SIZE = 3000 if SMALL else None  # None: all 60,000
TEST_SIZE = 2000 if SMALL else None  # None: all 10,000
train_images, train_labels = train_images[:TRAIN_SIZE], train_labels[:TRAIN_SIZE]
test_images, test_labels = test_images[:TEST_SIZE], test_labels[:TEST_SIZE]
train_images = train_images.astype(np.float32) / 255
test_images = test_images.astype(np.float32) / 255
print(len(train_images), "training images,", len(test_images), "test images")

# %% twin={"model": "fashion-mlp"}
model = keras.Sequential([
    keras.Input(shape=(28, 28)),
    layers.Flatten(),
    layers.Dense(512, activation="relu"),
    layers.Dense(512, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
model.summary()

# %% [markdown]
# One epoch in this kernel is enough to have weights worth moving:

# %%
BATCH_SIZE = 32
LEARNING_RATE = 1e-3  # Adam's default
model.compile(optimizer=keras.optimizers.Adam(learning_rate=LEARNING_RATE),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(train_images, train_labels, batch_size=BATCH_SIZE, epochs=1)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Moving a model between backends
#
# `model.save` writes the whole model (architecture, weights, optimiser state) into one
# `.keras` file, a zip archive that names no backend. We save it here, and load it in a
# new process on another backend, which predicts the same test images:

# %%
other = next(backend for backend in installed if backend != here)  # TensorFlow in a JAX kernel
saved = WORK / f"fashion_mlp_{here}.keras"
images_file = WORK / "test_images.npy"
moved_file = WORK / f"probabilities_{here}_on_{other}.npy"
model.save(saved)
np.save(images_file, test_images)
probabilities_here = model.predict(test_images, verbose=0)

# %%
# !KERAS_BACKEND={other} {sys.executable} -c "import keras, numpy as np; model = keras.saving.load_model('{saved}'); np.save('{moved_file}', model.predict(np.load('{images_file}'), verbose=0))"

# %%
probabilities_moved = np.load(moved_file)
moved_difference = np.abs(probabilities_moved - probabilities_here).max()
moved_same_class = np.mean(probabilities_moved.argmax(axis=1) == probabilities_here.argmax(axis=1))
print(f"saved on {here}, loaded on {other}: largest |Δ probability| {moved_difference:.1e}, "
      f"the same class for {moved_same_class:.2%} of the test images")

# %% [markdown]
# **Q:** the weights are the same numbers; why are the probabilities not *exactly* equal?

# %% [markdown] jupyter={"source_hidden": true}
# **Answer:** float32 keeps about 7 significant digits, and each unit sums 784 or 512
# products. The backends' matrix multiplications (oneDNN in TensorFlow, XLA in JAX,
# ATen in PyTorch) add them in different orders, so the last digits differ: about
# 1e-7 on a probability, far below anything that changes a class. We call two
# predictions the same when they differ by at most 1e-5 (`backends.AGREEMENT_TOLERANCE`).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The same training on every backend
#
# `backends.compare` starts one Python process per installed backend. Each builds
# `keraslab.models.build("fashion-mlp")`, the network above layer for layer (a test
# checks it), compiles it as above and calls `fit(batch_size=32)` one epoch at a time,
# the backends taking turns so that a busy spell of the computer slows all of them alike.
# Then every backend saves its model as `.keras`, and every other backend loads it and
# predicts the test images.

# %%
EPOCHS = 1 if SMALL else 5
comparison = backends.compare(installed, WORK / "compare", epochs=EPOCHS, data_dir=DATA_DIR,
                              train_size=TRAIN_SIZE, test_size=TEST_SIZE)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Seconds per epoch are the median after the first epoch, which also traces and
# compiles the network; the ratio is to the fastest backend.

# %%
for backend, result in comparison["backends"].items():
    print(f"{backend:10s} {result['seconds_per_epoch']:6.1f} s per epoch ({result['time_ratio']:.2f}x the fastest), "
          f"first epoch {result['epoch_seconds'][0]:.1f} s, test accuracy {result['test_accuracy']:.4f}")
for pair, agreement in comparison["agreement"].items():
    print(f"saved on {pair.replace(' -> ', ', loaded on ')}: largest |Δ probability| "
          f"{agreement['max_abs_difference']:.1e}, the same class for {agreement['same_class_fraction']:.2%}")

# %% [markdown]
# **Q:** the accuracies differ slightly although the network and the recipe are the same. Why?

# %% [markdown] jupyter={"source_hidden": true}
# **Answer:** each backend draws its own random initial weights and batch order (the
# random number generators differ), so each trains a different network of the same kind.
# The spread between them is the run-to-run spread of the recipe, not a property of
# the backend. The same *weights*, moved in a `.keras` file, give the same predictions.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What `fit` does: the training loop by hand in JAX
#
# `fit` repeats, for each batch of 32 shuffled images: the forward pass, the loss, the
# gradient of the loss with respect to every weight (back-propagation), and the
# optimiser's update. In JAX each is a few lines of `jax.numpy`; `jax.grad` does the
# back-propagation. The parameters are a list of `(W, b)` per Dense layer, started as
# Keras does (Glorot-uniform weights, zero biases).

# %%
def init_params(key, sizes=(784, 512, 512, 10)):
    params = []
    for layer_key, n_in, n_out in zip(jax.random.split(key, len(sizes) - 1), sizes[:-1], sizes[1:]):
        limit = np.sqrt(6 / (n_in + n_out))
        params.append((jax.random.uniform(layer_key, (n_in, n_out), minval=-limit, maxval=limit), jnp.zeros(n_out)))
    return params


def predict_logits(params, images):
    x = images.reshape(len(images), -1)  # Flatten
    for weights, bias in params[:-1]:
        x = jax.nn.relu(x @ weights + bias)  # Dense(512, activation="relu")
    weights, bias = params[-1]
    return x @ weights + bias  # Dense(10) before its softmax


def loss_fn(params, images, labels):  # sparse categorical cross-entropy, softmax included
    log_probabilities = jax.nn.log_softmax(predict_logits(params, images))
    return -jnp.mean(jnp.take_along_axis(log_probabilities, labels[:, None], axis=1))


# %% [markdown] slideshow={"slide_type": "subslide"}
# Adam keeps two running averages per weight: of the gradient (`first`) and of its square
# (`second`); each step moves a weight by the first over the square root of the second,
# with the corrections for the averages' start at zero. `jax.jit` compiles the step with XLA.

# %%
@jax.jit
def adam_step(params, moments, step, images, labels, beta1=0.9, beta2=0.999, epsilon=1e-7):
    batch_loss, gradients = jax.value_and_grad(loss_fn)(params, images, labels)
    first, second = moments
    first = jax.tree.map(lambda m, g: beta1 * m + (1 - beta1) * g, first, gradients)
    second = jax.tree.map(lambda v, g: beta2 * v + (1 - beta2) * g**2, second, gradients)
    rate = LEARNING_RATE * jnp.sqrt(1 - beta2**step) / (1 - beta1**step)
    params = jax.tree.map(lambda p, m, v: p - rate * m / (jnp.sqrt(v) + epsilon), params, first, second)
    return params, (first, second), batch_loss


# %% slideshow={"slide_type": "subslide"}
params = init_params(jax.random.key(0))
moments = (jax.tree.map(jnp.zeros_like, params), jax.tree.map(jnp.zeros_like, params))
shuffle = np.random.default_rng(0)
step, hand_losses, hand_seconds = 0, [], []
for epoch in range(EPOCHS):
    start = time.perf_counter()
    order = shuffle.permutation(len(train_images))  # fit(shuffle=True)
    batch_losses = []
    for first_image in range(0, len(order), BATCH_SIZE):
        batch = order[first_image:first_image + BATCH_SIZE]
        step += 1
        params, moments, batch_loss = adam_step(params, moments, step, train_images[batch], train_labels[batch])
        batch_losses.append(batch_loss)
    hand_losses.append(float(np.mean(jax.device_get(batch_losses))))  # fit shows this mean as "loss"
    hand_seconds.append(time.perf_counter() - start)
    print(f"epoch {epoch + 1}/{EPOCHS}: {hand_seconds[-1]:.1f} s, loss {hand_losses[-1]:.4f}")

hand_accuracy = float(np.mean(predict_logits(params, test_images).argmax(axis=1) == test_labels))
print(f"test accuracy of the loop by hand: {hand_accuracy:.4f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# All of it side by side (the loop by hand in the last colour):

# %%
by_hand = {"history": {"loss": hand_losses}, "test_accuracy": hand_accuracy,
           "seconds_per_epoch": backends.median_epoch_seconds(hand_seconds)}
backends.comparison_figure(comparison, by_hand)

# %% [markdown]
# **Q:** what does `fit` do that this loop does not?

# %% [markdown] jupyter={"source_hidden": true}
# **Answer:** the metrics (accuracy) during training, validation data, the progress bar,
# callbacks (early stopping, checkpoints, learning-rate schedules), masks and sample
# weights, and putting the data on the device in the background while the previous
# batch computes. It also runs unchanged on TensorFlow and PyTorch, where this loop
# would be rewritten with `tf.GradientTape` or `loss.backward()`.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Where a GPU helps
#
# Each backend uses a GPU when it is installed with GPU support (TensorFlow's `tensorflow`
# package with CUDA, `jax[cuda12]`, PyTorch's CUDA wheels), with no change to the Keras
# code. For this small network and batches of 32 a GPU gains little: each step is too
# short to fill it and the time goes into launching kernels. Larger batches,
# convolutional networks (labs/03's CNN, day two's jet images) and long trainings are
# where it pays, typically 10x and more. The loop by hand runs on the GPU too, since
# `jax.jit` compiles for whatever device JAX finds.

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 1: save `model` as a .keras file and load it back
#
# Save it as `saved_path` (a path ending in `.keras`, e.g. in the folder `WORK`) with
# `model.save`, and load it back as `reloaded` with `keras.saving.load_model`.

# %% tags=["exercise"]
saved_path = None  # your code here
reloaded = None  # your code here

# %% tags=["solution"]
saved_path = WORK / "my_model.keras"
model.save(saved_path)
reloaded = keras.saving.load_model(saved_path)

# %% tags=["check"]
check.saved_and_reloaded(saved_path, reloaded, model, test_images[:1000])

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 2: one step of plain gradient descent by hand
#
# Write `sgd_step(params, images, labels, learning_rate)`, returning the new parameters:
# each weight minus the learning rate times the gradient of `loss_fn` (`jax.grad` gives
# the gradients in the same structure as `params`; `jax.tree.map` applies a function to
# each weight and its gradient).

# %% tags=["exercise"]
sgd_step = None  # your code here

# %% tags=["solution"]
def sgd_step(params, images, labels, learning_rate):
    gradients = jax.grad(loss_fn)(params, images, labels)
    return jax.tree.map(lambda p, g: p - learning_rate * g, params, gradients)


# %% tags=["check"]
check.sgd_step(sgd_step)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What this notebook showed
#
# A model saved as `.keras` on one backend loads on any other and gives the same
# predictions within float32 rounding: every probability within 1e-5
# (`backends.AGREEMENT_TOLERANCE`), the same class for (almost) every image. The
# backends train the same network to the same accuracy, at different speeds; the loop
# written by hand in JAX reaches it too.

# %% slideshow={"slide_type": "skip"}
assert model.count_params() == 669_706, model.count_params()
assert moved_difference <= backends.AGREEMENT_TOLERANCE, moved_difference
assert comparison["max_abs_difference"] <= backends.AGREEMENT_TOLERANCE, comparison["agreement"]
assert moved_same_class >= 0.999 and comparison["same_class_fraction"] >= 0.999, comparison["agreement"]
if CHECK_CLAIMS:
    keras_accuracies = [result["test_accuracy"] for result in comparison["backends"].values()]
    assert min(keras_accuracies) > 0.6, keras_accuracies
    assert hand_accuracy > min(keras_accuracies) - 0.03, (hand_accuracy, keras_accuracies)  # comparable
print("the lesson's claims hold")
