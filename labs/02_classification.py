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
# # Part Two: binary classification
#
# The same random 10-vectors, but now a yes/no question: is $\sin\left(\sum_k x_k^2\right) \ge 0$?
# A sigmoid output gives the probability of "yes"; the loss is the binary cross-entropy,
# and Keras counts the right answers for us (`metrics=["accuracy"]`).

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

keras.utils.set_random_seed(0)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The data: a label instead of a number

# %%
N_samples = 1_000 if SMALL else 10_000
x_train = np.random.rand(N_samples, 10)
label_train = (np.sin(np.sum(np.square(x_train), axis=1)) >= 0).astype("float32")
print(f"{label_train.mean():.1%} of the samples have label 1")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The network: Dense(100, relu), Dense(100, relu), Dense(1, sigmoid)
#
# The sigmoid squeezes the output into (0, 1): the probability of label 1.

# %% twin={"model": "classification"}
model = keras.Sequential([
    keras.Input(shape=(10,)),
    layers.Dense(100, activation="relu"),
    layers.Dense(100, activation="relu"),
    layers.Dense(1, activation="sigmoid"),
])
model.summary()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Training with 20% of the samples held out for validation (Adam, batch 256, 25 epochs)
#
# `validation_split=0.2` keeps the last 20% of the samples out of training and
# measures the loss and accuracy on them after every epoch.

# %%
model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(learning_rate=1e-3), metrics=["accuracy"])
history = model.fit(x_train, label_train, batch_size=256, epochs=3 if SMALL else 25, validation_split=0.2)

# %% slideshow={"slide_type": "subslide"}
fig, (ax_loss, ax_accuracy) = plt.subplots(1, 2, figsize=(11, 4))
for ax, metric in ((ax_loss, "loss"), (ax_accuracy, "accuracy")):
    ax.plot(history.history[metric], "o-", label="training")
    ax.plot(history.history[f"val_{metric}"], "s--", label="validation")
    ax.set(xlabel="epoch", ylabel=metric)
    ax.legend()

# %% [markdown]
# **Q:** why is the validation accuracy sometimes higher than the training accuracy?

# %% [markdown] jupyter={"source_hidden": true}
# **Answer:** the training accuracy is averaged over the epoch while the weights are
# still improving, whereas the validation accuracy is measured with the weights at the
# end of the epoch. With 2,000 validation samples the statistical noise is also about
# ±0.5%. A validation accuracy persistently *below* the training one is the sign of
# over-training (see the over-training notebook).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Evaluation on new samples

# %%
x_test = np.random.rand(N_samples, 10)
label_test = (np.sin(np.sum(np.square(x_test), axis=1)) >= 0).astype("float32")
test_loss, test_accuracy = model.evaluate(x_test, label_test, verbose=0)
print(f"test accuracy according to Keras: {test_accuracy:.4f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1: the accuracy by hand
#
# The network outputs a probability. Call a sample "1" where `model.predict` gives
# more than 0.5, compare with `label_test` and compute the fraction of right answers on
# the test samples, as `accuracy_by_hand`. It must agree with Keras' accuracy above.

# %% tags=["exercise"]
accuracy_by_hand = None  # your code here

# %% tags=["solution"]
predictions = model.predict(x_test, verbose=0)[:, 0]
accuracy_by_hand = np.mean((predictions > 0.5) == (label_test == 1))

# %% tags=["check"]
check.hand_accuracy(accuracy_by_hand, model, x_test, label_test)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Which samples are misclassified?
#
# **Q:** where are the network's mistakes?

# %%
probability = model.predict(x_test, verbose=0)[:, 0]
hidden = np.sum(np.square(x_test), axis=1)
wrong = (probability > 0.5) != (label_test == 1)
plt.hist([hidden[~wrong], hidden[wrong]], bins=40, density=True, histtype="step", label=["right", "wrong"])
plt.axvline(np.pi, color="grey", ls=":")
plt.xlabel(r"$\sum_k x_k^2$")
plt.legend()

# %% [markdown] jupyter={"source_hidden": true}
# **Answer:** those close to the boundary $\sum_k x_k^2 = \pi$ (dotted line), where the
# sine changes sign: a tiny change of the inputs flips the label, and the network's
# smooth output is close to 0.5 there.

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 2: play with the parameters
#
# The slides' network gets about 94% of new samples right. Build and train
# `better_classifier` so that it gets at least 97% right. The check judges it on
# 10,000 samples it has never seen.

# %% tags=["exercise"]
better_classifier = None  # your code here

# %% tags=["solution"]
x_more = np.random.rand(N_samples if SMALL else 100_000, 10)  # more examples near the boundary
label_more = (np.sin(np.sum(np.square(x_more), axis=1)) >= 0).astype("float32")
better_classifier = keras.Sequential([keras.Input(shape=(10,))] + [layers.Dense(100, activation="relu") for _ in range(3)])
better_classifier.add(layers.Dense(1, activation="sigmoid"))
better_classifier.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                          metrics=["accuracy"])
better_classifier.fit(x_more, label_more, batch_size=256, epochs=2 if SMALL else 30, verbose=0)

# %% tags=["check"]
check.classification_accuracy(better_classifier)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What this notebook showed
#
# The accuracy counted by hand is Keras' accuracy, and training lowers the loss.

# %% slideshow={"slide_type": "skip"}
by_hand = np.mean((probability > 0.5) == (label_test == 1))
assert model.count_params() == 11_301, model.count_params()
assert abs(by_hand - test_accuracy) < 0.5 / N_samples, (by_hand, test_accuracy)
assert history.history["loss"][-1] < history.history["loss"][0], "training did not lower the loss"
print("the lesson's claims hold")
