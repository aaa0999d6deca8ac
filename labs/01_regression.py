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
# # Part One: regression with a dense network
#
# Day one of *Introduction to Deep Learning with Keras*. We hide a simple law in
# random data and ask a small network to find it:
#
# * 10,000 random vectors of 10 numbers, each $x_k$ uniform in $[0, 1)$;
# * the target $y = \sin\left(\sum_k x_k^2\right)$.
#
# The network never sees the formula, only examples. You write every step in Keras:
# the data in NumPy, the network with `keras.Sequential`, then `compile`, `fit`,
# `evaluate` and `predict`. Exercises end with a check cell that tells you whether your
# answer is right, or what is wrong.

# %% tags=["parameters"] slideshow={"slide_type": "skip"}
SMALL = False  # True: a reduced run (used by the tests)

# %% slideshow={"slide_type": "skip"}
import importlib.util

if importlib.util.find_spec("keraslab") is None:  # e.g. a fresh Colab or JupyterHub kernel
    raise SystemExit("keraslab is not installed in this kernel: pip install the class's keraslab wheel "
                     "(README, 'Notebooks on a hosted Jupyter'), then restart the kernel")

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
from keraslab.backend import select

select("jax")  # JAX trains small dense networks faster on a CPU (docs/day1.md); KERAS_BACKEND overrides

import keras
import matplotlib.pyplot as plt
import numpy as np
from keras import layers

from keraslab import check
from keraslab.day1 import figures

keras.utils.set_random_seed(0)  # the same data and initial weights at every run

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The data
#
# As on the slides: `N_samples` vectors of `N_in` numbers, and the target computed in NumPy.

# %%
N_samples = 1_000 if SMALL else 10_000
N_in = 10

x_train = np.random.rand(N_samples, N_in)
z = np.sum(np.square(x_train), axis=1)
y_train = np.sin(z)
x_train.shape, y_train.shape

# %% [markdown] slideshow={"slide_type": "subslide"}
# $y$ against three single inputs, and against the hidden variable $z = \sum_k x_k^2$:

# %%
figures.hidden_structure(x_train, y_train)

# %% [markdown]
# **Q:** $y$ against any single $x_k$ looks like noise. Is there any structure at all?

# %% [markdown] jupyter={"source_hidden": true}
# **Answer:** yes, but it is hidden: $y$ depends on all ten inputs together, through
# $\sum_k x_k^2$ (right panel, a clean sine). Each single $x_k$ explains only a tenth of
# that sum, so one-dimensional projections look random. Finding such combinations is
# what the hidden layers are for.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The network of the slides
#
# Two hidden layers, Dense(20) and Dense(30) with the ReLU activation, on the 10 inputs.
# `model.summary()` counts the parameters: 10·20 weights + 20 biases = 220, then
# 20·30 + 30 = 630.

# %% twin={"model": "regression"}
model = keras.Sequential([
    keras.Input(shape=(10,)),
    layers.Dense(20, activation="relu"),
    layers.Dense(30, activation="relu"),
])
model.add(layers.Dense(1))  # the output: one number, no activation (any real value)
model.summary()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1: the same network, layer by layer
#
# Start from `my_model = keras.Sequential([keras.Input(shape=(10,))])` and `add` the
# three Dense layers one at a time. The check counts the parameters and compares each
# layer with the slides'.

# %% tags=["exercise"]
my_model = None  # your code here

# %% tags=["solution"]
my_model = keras.Sequential([keras.Input(shape=(10,))])
my_model.add(layers.Dense(20, activation="relu"))
my_model.add(layers.Dense(30, activation="relu"))
my_model.add(layers.Dense(1))

# %% tags=["check"]
check.regression_network(my_model)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Training: SGD, learning rate 0.01, batch 32, 10 epochs
#
# **Q:** how can we fit the parameters? We choose a loss, the mean squared error
# between prediction and truth, and let an optimiser walk down its gradient: stochastic
# gradient descent (SGD) on batches of 32 samples. One epoch is one pass over the data.

# %%
model.compile(loss="mean_squared_error", optimizer=keras.optimizers.SGD(learning_rate=0.01))
history = model.fit(x_train, y_train, batch_size=32, epochs=2 if SMALL else 10)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The learning curve: the loss after each epoch, from `history.history`.

# %%
plt.plot(history.history["loss"], "o-")
plt.xlabel("epoch")
plt.ylabel("mean squared error")
plt.yscale("log")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Evaluation and prediction
#
# New samples the network has never seen tell how well it learned the law, not the
# examples. `evaluate` gives the loss on them, `predict` the network's answers.

# %%
x_test = np.random.rand(N_samples, N_in)
y_test = np.sin(np.sum(np.square(x_test), axis=1))
test_loss = model.evaluate(x_test, y_test, verbose=0)
print(f"mean squared error on new samples: {test_loss:.4f}")

# %%
y_predicted = model.predict(x_test, verbose=0)
figures.regression_truth(x_test, y_test, y_predicted)

# %% [markdown]
# **Q:** where does the network do worst, and why?

# %% [markdown] jupyter={"source_hidden": true}
# **Answer:** at the ends of the range of $\sum_k x_k^2$. A sum of ten uniform squares
# is close to its mean (about 3.3), so there are few examples near 0 or near 10,
# and the network has little to learn from there. Ten epochs of plain SGD also leave
# the curvature of the sine smoothed out.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Play with the parameters
#
# Layers, nodes per layer, activation, sample size, batch size, optimiser
# (`keras.optimizers.SGD`, `SGD(momentum=0.9)`, `Adam`), learning rate, epochs.
#
# ### Exercise 2: a loss below $10^{-3}$
#
# Build, compile and train `better_model` so that its mean squared error on new samples
# is below $10^{-3}$. The original lab's hint: Adam, three layers of 100 and batch 256
# bring the *training* loss to about $10^{-4}$. The check judges your network on 10,000
# samples it has never seen, so also think about how many examples it learns from.

# %% tags=["exercise"]
better_model = None  # your code here

# %% tags=["solution"]
better_model = keras.Sequential([keras.Input(shape=(10,))] + [layers.Dense(100, activation="relu") for _ in range(3)])
better_model.add(layers.Dense(1))
better_model.compile(loss="mean_squared_error", optimizer=keras.optimizers.Adam(learning_rate=1e-3))
x_more = np.random.rand(N_samples if SMALL else 100_000, N_in)  # more examples: the network generalises better
y_more = np.sin(np.sum(np.square(x_more), axis=1))
better_model.fit(x_more, y_more, batch_size=256, epochs=2 if SMALL else 30, verbose=0)

# %% tags=["check"]
check.regression_loss(better_model)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 3: a learning rate that is too large
#
# **Q:** what happens with SGD and a learning rate of 10? Train a fresh copy of the
# slides' network that way for 10 epochs, with Keras' `keras.callbacks.TerminateOnNaN()`
# callback, and keep what `fit` returns as `diverging_history`.

# %% tags=["exercise"]
diverging_history = None  # your code here

# %% tags=["solution"]
diverging = keras.Sequential([keras.Input(shape=(10,)), layers.Dense(20, activation="relu"),
                              layers.Dense(30, activation="relu"), layers.Dense(1)])
diverging.compile(loss="mean_squared_error", optimizer=keras.optimizers.SGD(learning_rate=10.0))
diverging_history = diverging.fit(x_train, y_train, batch_size=32, epochs=10, verbose=0,
                                  callbacks=[keras.callbacks.TerminateOnNaN()])

# %% tags=["check"]
check.stopped_on_nan(diverging_history)

# %% [markdown] jupyter={"source_hidden": true}
# **Answer:** the steps overshoot the minimum, every step further than the last, the
# loss grows without bound and becomes NaN within the first epoch; nothing learned after
# that is worth keeping, so `TerminateOnNaN` stops the run. Momentum and Adam converge
# faster than plain SGD at sensible rates; Adam adapts the step to each weight.
# `keraslab run regression --learning-rate 10` stops the same way and names the rate.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What this notebook showed
#
# The checks below restate the lesson: the slides' network has 881 parameters, and
# training lowers its loss.

# %% slideshow={"slide_type": "skip"}
assert model.count_params() == 881, model.count_params()
assert history.history["loss"][-1] < history.history["loss"][0], "training did not lower the loss"
assert test_loss < np.var(y_test), "the network predicts worse than the mean"
print("the lesson's claims hold")
