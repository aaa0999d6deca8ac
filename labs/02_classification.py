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
# # Part Two: binary classification
#
# The same random 10-vectors, but now a yes/no question: is $\sin\left(\sum_k x_k^2\right) \ge 0$?
# A sigmoid output gives the probability of "yes"; the loss is the binary cross-entropy.

# %% tags=["parameters"]
SMALL = False  # True: a reduced run (used by the tests)

# %%
from keraslab.backend import select

select("jax")  # the faster Keras backend for dense networks on a CPU

import numpy as np
from IPython.display import Image

from keraslab import models, toy, training

n_samples = 1_000 if SMALL else 10_000
epochs = 3 if SMALL else 25

# %%
x, label = toy.make_binary(n_samples, seed=0)
print(f"{label.mean():.1%} of the samples have label 1")

# %% [markdown]
# ## The network: Dense(100, relu) -> Dense(100, relu) -> Dense(1, sigmoid), 11,301 parameters

# %%
model = models.build("classification")
models.compile_for(model, "classification")  # Adam, binary cross-entropy, accuracy
model.summary()

# %% [markdown]
# ## Training with 20% of the samples held out for validation (batch 256, 25 epochs)

# %%
run_dir = training.prepare_run_dir("runs/notebook-classification", overwrite=True)
result = training.fit_run(model, (x, label), run_dir=run_dir, epochs=epochs, batch_size=256, validation=0.2)
Image(run_dir / "learning_curves.png")

# %% [markdown]
# **Q:** why is the validation accuracy sometimes higher than the training accuracy?

# %% [markdown] jupyter={"source_hidden": true}
# **Answer:** the training accuracy is averaged over the epoch while the weights are
# still improving, whereas the validation accuracy is measured with the weights at the
# end of the epoch. With 2,000 validation samples the statistical noise is also about
# ±0.5%. A validation accuracy persistently *below* the training one is the sign of
# over-training (see the over-training notebook).

# %% [markdown]
# ## Accuracy by hand
#
# The network outputs a probability; call it "1" above 0.5 and count the right answers.

# %%
probability = model.predict(x, verbose=0)[:, 0]
by_hand = np.mean((probability > 0.5) == label.astype(bool))
print(f"accuracy by hand on all samples: {by_hand:.4f}; Keras on the training part: {result.final['accuracy']:.4f}")

# %% [markdown]
# **Q:** which samples are misclassified?

# %% [markdown] jupyter={"source_hidden": true}
# **Answer:** those close to the boundary $\sum_k x_k^2 = \pi$, where the sine changes
# sign: a tiny change of the inputs flips the label, and the network's smooth output is
# close to 0.5 there.

# %%
hidden = np.sum(x**2, axis=1)
wrong = (probability > 0.5) != label.astype(bool)
print(f"misclassified: {wrong.sum()}; their mean |sum x^2 - pi| = {np.abs(hidden[wrong] - np.pi).mean():.2f} "
      f"(all samples: {np.abs(hidden - np.pi).mean():.2f})")
