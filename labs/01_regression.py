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
# # Part One: regression with a dense network
#
# Day one of *Introduction to Deep Learning with Keras*. We hide a simple law in
# random data and ask a small network to find it:
#
# * 10,000 random vectors of 10 numbers, each $x_k$ uniform in $[0, 1)$;
# * the target $y = \sin\left(\sum_k x_k^2\right)$.
#
# The network never sees the formula, only examples. Everything below calls the
# `keraslab` package, where the data and the networks are defined once.

# %% tags=["parameters"]
SMALL = False  # True: a reduced run (used by the tests)

# %%
from keraslab.backend import select

select("jax")  # the faster Keras backend for dense networks on a CPU; set KERAS_BACKEND to override

from IPython.display import Image

from keraslab import models, plots, toy, training

n_samples = 1_000 if SMALL else 10_000
epochs = 2 if SMALL else 10

# %% [markdown]
# ## The data

# %%
x, y = toy.make_regression(n_samples, n_features=10, seed=0)
x.shape, y.shape

# %% [markdown]
# Plot $y$ against a few single inputs, and against the hidden variable $\sum_k x_k^2$:

# %%
Image(plots.hidden_structure(x, y, "hidden_structure.png"))

# %% [markdown]
# **Q:** $y$ against any single $x_k$ looks like noise. Is there any structure at all?

# %% [markdown] jupyter={"source_hidden": true}
# **Answer:** yes, but it is hidden: $y$ depends on all ten inputs together, through
# $\sum_k x_k^2$ (right panel, a clean sine). Each single $x_k$ explains only a tenth of
# that sum, so one-dimensional projections look random. Finding such combinations is
# what the hidden layers are for.

# %% [markdown]
# ## The network of the slides
#
# Dense(20, relu) on the 10 inputs, Dense(30, relu), and one linear output:
# 220 + 630 parameters before the output layer, 881 in total.

# %%
model = models.build("regression")
models.compile_for(model, "regression")  # the slides: SGD, learning rate 0.01, mean squared error
model.summary()

# %% [markdown]
# ## Training: batch 32, 10 epochs
#
# `training.fit_run` calls Keras' `model.fit` and keeps a run folder: the history,
# the metrics, the learning curve.

# %%
run_dir = training.prepare_run_dir("runs/notebook-regression", overwrite=True)
result = training.fit_run(model, (x, y), run_dir=run_dir, epochs=epochs, batch_size=32)
Image(run_dir / "learning_curves.png")

# %% [markdown]
# ## Prediction against truth

# %%
prediction = model.predict(x, verbose=0)
Image(plots.regression_truth(x, y, prediction, run_dir / "prediction_vs_truth.png"))

# %% [markdown]
# **Q:** where does the network do worst, and why?

# %% [markdown] jupyter={"source_hidden": true}
# **Answer:** at the ends of the range of $\sum_k x_k^2$. A sum of ten uniform squares
# is close to its mean (about 3.3), so there are few examples near 0 or near 10,
# and the network has little to learn from there. Ten epochs of plain SGD also leave
# the curvature of the sine smoothed out.

# %% [markdown]
# ## Play with the parameters
#
# Layers, nodes per layer, activation, sample size, batch size, optimiser (SGD, SGD
# with momentum, Adam), learning rate, epochs. The same knobs exist on the command
# line, e.g. `keraslab run regression --optimizer adam --layers 100,100,100 --batch-size 256`.
# The original lab's hint: Adam, three layers of 100 and batch 256 reach a loss near $10^{-4}$.

# %%
bigger = models.build("regression", layers=(100, 100, 100))
models.compile_for(bigger, "regression", optimizer="adam", learning_rate=1e-3)
run_dir = training.prepare_run_dir("runs/notebook-regression-adam", overwrite=True)
hint = training.fit_run(bigger, (x, y), run_dir=run_dir, epochs=2 if SMALL else 100, batch_size=256, verbose=0)
print(f"final loss {hint.final['loss']:.2e} after {hint.epochs_run} epochs")

# %% [markdown]
# **Q:** what happens with a large learning rate, e.g. SGD with 10?

# %% [markdown] jupyter={"source_hidden": true}
# **Answer:** the steps overshoot, the loss grows without bound and becomes NaN
# within the first epoch. keraslab stops at the first NaN and names the learning rate:
# `keraslab run regression --learning-rate 10`. Momentum and Adam converge faster
# than plain SGD at sensible rates; Adam adapts the step to each weight.
