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
# # Initial values of the weights
#
# Before the first step of training every weight has a value: Keras draws them at
# random (`kernel_initializer`, Glorot's uniform by default) and sets the biases to 0.
# In a deep network that choice decides whether training starts at all. We build a
# deep plain network, **10 Dense layers of 100 units** on Fashion-MNIST, and start it
# six ways:
#
# * all weights **zero**, or all the same **constant** (0.01);
# * a **too-small** normal (standard deviation 0.01) and a **too-large** one (1);
# * **Glorot** (Keras' default) and **He**, drawn at the scale that keeps the signal's size;
#
# each with tanh and with ReLU. We look at the signal going forward (the activations)
# and backward (the gradients) at the first step, then train all twelve networks.

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

select("jax")  # the first-step gradients below use jax.grad; KERAS_BACKEND=tensorflow would stop them

import jax
import keras
import numpy as np
from keras import layers

from keraslab.beyond import initialisation
from keraslab.check import initialisation as check
from keraslab.day1 import fashion_mnist

keras.utils.set_random_seed(0)

(train_images, train_labels), _ = fashion_mnist.load(DATA_DIR)
if SMALL:
    train_images, train_labels = train_images[:3000], train_labels[:3000]
train_images = train_images / 255.0
batch_images, batch_labels = train_images[:256], train_labels[:256]  # the batch of the first step
epochs = 3 if SMALL else 5

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A deep plain network
#
# Ten hidden layers and no tricks (no batch normalisation, no skip connections). The
# last layer gives 10 **logits**, with no softmax: the loss applies it
# (`from_logits=True`), exactly even where a bad start makes the logits huge.
#
# `new_initializer` makes a new initializer for each layer: one initializer object
# without a seed draws the same numbers every time, so all layers would start alike.

# %% twin={"model": "deep-mlp"}
def deep_mlp(new_initializer=keras.initializers.GlorotUniform, activation="relu"):
    """Flatten -> 10 x Dense(100) -> Dense(10) logits; every kernel drawn by new_initializer()."""
    model = keras.Sequential([keras.Input(shape=(28, 28)), layers.Flatten()])
    for _ in range(10):
        model.add(layers.Dense(100, activation=activation, kernel_initializer=new_initializer()))
    model.add(layers.Dense(10, kernel_initializer=new_initializer()))
    return model


model = deep_mlp()
print(f"{model.count_params():,} parameters")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Six ways to start
#
# A unit adds up $n$ inputs times weights: $z = \sum_{i=1}^{n} w_i x_i$. With weights of
# mean 0 drawn independently, $\mathrm{E}[z^2] = n \, \mathrm{Var}(w) \, \mathrm{E}[x^2]$: each
# layer multiplies the signal's mean square by $n \, \mathrm{Var}(w)$, and ReLU halves it
# again (it sets the negative half to 0).
#
# * **He**: $\mathrm{Var}(w) = 2/n_\mathrm{in}$, the factor is $2 \cdot 1/2 = 1$ with ReLU;
# * **Glorot**: $\mathrm{Var}(w) = 2/(n_\mathrm{in} + n_\mathrm{out})$, a compromise between
#   the forward ($n_\mathrm{in}$) and the backward pass ($n_\mathrm{out}$), made for tanh,
#   which is linear near 0;
# * the normals: $n \, \mathrm{Var}(w) = 100 \cdot 0.01^2 = 0.01$ and $100 \cdot 1^2 = 100$ per layer.

# %%
initializers = {
    "zeros": keras.initializers.Zeros,
    "constant": lambda: keras.initializers.Constant(0.01),
    "small-normal": lambda: keras.initializers.RandomNormal(stddev=0.01),
    "large-normal": lambda: keras.initializers.RandomNormal(stddev=1.0),
    "glorot": keras.initializers.GlorotUniform,  # Keras' default
    "he": keras.initializers.HeNormal,
}
networks = {}
for activation in ("relu", "tanh"):
    for name, new_initializer in initializers.items():
        keras.utils.set_random_seed(0)  # the same random numbers for every start
        networks[f"{activation} {name}"] = deep_mlp(new_initializer, activation)

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 1: the signal, layer by layer
#
# For `model` (Glorot, ReLU), compute the standard deviation of each hidden layer's
# outputs on `batch_images`: a list `activation_stds` of 10 numbers, each over all the
# images and all the units of one layer. Hint: `keras.Model(model.inputs, outputs)`
# gives a model with the `outputs` you list, e.g. `[layer.output for layer in ...]`.

# %% tags=["exercise"]
activation_stds = None  # your code here

# %% tags=["solution"]
hidden_layers = model.layers[1:-1]  # after the Flatten, before the logits
probe = keras.Model(model.inputs, [layer.output for layer in hidden_layers])
activation_stds = [float(np.std(outputs)) for outputs in probe.predict(batch_images, verbose=0)]

# %% tags=["check"]
check.activation_stds(activation_stds, model, batch_images)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The first step, forward and backward
#
# Training needs the gradient of the loss with respect to every weight; back-propagation
# carries it backwards through the gradient with respect to each layer's activations,
# $\partial L / \partial h_l$. To see it we add a "nudge" of zeros to each layer's output:
# the gradient with respect to the nudges is $\partial L / \partial h_l$, and `jax.grad`
# computes it (with `has_aux=True` it also returns the activations).

# %%
loss_function = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def first_step(model, images, labels):
    """Each hidden layer's activations and the gradient of the loss with respect to them."""
    flatten, hidden, output = model.layers[0], model.layers[1:-1], model.layers[-1]

    def loss(nudges):
        h, activations = flatten(images), []
        for layer, nudge in zip(hidden, nudges):
            h = layer(h) + nudge
            activations.append(h)
        return loss_function(labels, output(h)), activations

    nudges = [keras.ops.zeros((len(images), layer.units)) for layer in hidden]
    gradients, activations = jax.grad(loss, has_aux=True)(nudges)
    return [np.asarray(a) for a in activations], [np.asarray(g) for g in gradients]


steps = {name: first_step(network, batch_images, batch_labels) for name, network in networks.items()}

# %% [markdown] slideshow={"slide_type": "slide"}
# The standard deviation of the activations (left) and of their gradients (right),
# layer by layer, for all twelve networks (solid: ReLU, dashed: tanh). Zeros have no
# place on a log scale: the zero-initialised networks are missing. The constant start's
# gradients, about $10^{-12}$, are round-off: its output weights are all equal, so the
# gradient $0.01 \sum_k (p_k - y_k)$ sums probabilities minus a one-hot label, 1 − 1 = 0.

# %%
first_steps = {name: initialisation.FirstStep(*step) for name, step in steps.items()}
initialisation.std_per_layer(first_steps)

# %% [markdown] slideshow={"slide_type": "slide"}
# The same, as histograms per layer (layer 1 dark, layer 10 light): the activations'
# values, and the order of magnitude of the gradients, $\log_{10} |\partial L / \partial h_l|$.

# %%
initialisation.histogram_grid({name.split()[1]: step for name, step in first_steps.items() if name.startswith("relu")},
                              title="ReLU: the first step")

# %% slideshow={"slide_type": "subslide"}
initialisation.histogram_grid({name.split()[1]: step for name, step in first_steps.items() if name.startswith("tanh")},
                              title="tanh: the first step")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Q:** with the small normal and ReLU, by about how much does the gradient's standard
# deviation shrink from one layer to the one before it, and why?

# %% [markdown] jupyter={"source_hidden": true}
# **Answer:** by about $\sqrt{100 \cdot 0.01^2 / 2} \approx 0.07$, an order of magnitude
# per layer (right panel above: from about $10^{-4}$ at layer 10 to $10^{-15}$ at layer 1).
# Going backwards, each layer multiplies the gradient by its weights (100 of them, each
# of size 0.01) and by ReLU's derivative (0 for half the units): the same factor as the
# activations going forward. The first layers get no gradient to learn from.

# %% slideshow={"slide_type": "subslide"}
for name, (activations, gradients) in steps.items():
    print(f"{name:18s} std last/first layer: activations {np.std(activations[-1]) / np.std(activations[0]):9.2e}"
          f"   gradients {np.std(gradients[-1]) / np.std(gradients[0]):9.2e}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 2: an initialiser for ReLU
#
# Glorot, Keras' default, shrinks the ReLU activations layer after layer (the ratio
# above). Choose `relu_initializer`, the name of a Keras initializer (e.g.
# `"glorot_uniform"`) or a function that makes one (as in `initializers`), such that
# the last hidden layer's standard deviation stays within a factor 4 of the first's.
# The check builds the network with ReLU and your choice and measures it.

# %% tags=["exercise"]
relu_initializer = None  # your code here

# %% tags=["solution"]
relu_initializer = keras.initializers.HeNormal  # variance 2 / n_in: ReLU keeps half of the signal

# %% tags=["check"]
check.relu_initializer(relu_initializer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Training all twelve
#
# The same recipe for every start: Adam, batches of 128, `epochs` epochs, 1/6 of the
# images held out for validation. `TerminateOnNaN` stops a network whose loss overflows.

# %%
histories = {}
for name, network in networks.items():
    network.compile(optimizer="adam", loss=loss_function, metrics=["accuracy"])
    history = network.fit(train_images, train_labels, batch_size=128, epochs=epochs, validation_split=1 / 6,
                          verbose=0, callbacks=[keras.callbacks.TerminateOnNaN()])
    histories[name] = history.history
    print(f"{name:18s} loss: training {history.history['loss'][-1]:10.4g}, "
          f"validation {history.history['val_loss'][-1]:10.4g}   validation accuracy {history.history['val_accuracy'][-1]:.3f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# The training loss per epoch (validation loss dashed). A uniform guess over the 10
# classes has loss $\ln 10 \approx 2.3$. "Trains fastest" means here: the lowest training
# loss after the same number of steps.

# %%
initialisation.learning_curves(histories)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Symmetry is never broken
#
# Zeros and a constant start every unit of a layer with the same weights. The units then
# compute the same output and get the same gradient, so they stay copies of each other:
# a layer of 100 copies is a layer of one unit. Here is how far the 100 units (columns)
# of the fifth hidden layer's kernel differ after training, relative to its largest weight:

# %%
unit_spreads = {}
for name, network in networks.items():
    kernel = network.layers[5].get_weights()[0]  # (100 inputs, 100 units)
    largest = np.max(np.abs(kernel))
    unit_spreads[name] = float(np.max(np.abs(kernel - kernel[:, :1])) / largest) if largest > 0 else 0.0
    print(f"{name:18s} units differ by {unit_spreads[name]:.1e}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What this notebook showed
#
# * **Zeros** and a **constant** never break the symmetry: after training, the units of a
#   layer are still copies of each other (and with zeros nothing but the last bias learns).
# * A **too-small** normal makes the activations and the gradients vanish layer by layer:
#   the first layer's gradient is many orders of magnitude below the last one's.
# * A **too-large** normal makes ReLU's activations and gradients explode and saturates
#   tanh (most units at $|h| > 0.99$, where tanh passes almost no gradient).
# * **He** with ReLU and **Glorot** with tanh keep the activations' spread within a factor
#   4 from the first to the last hidden layer, and they train fast: He has the lowest
#   training loss with ReLU. With tanh, He trains as fast as Glorot in this network, even a
#   little faster (He's scale, $\sqrt{2}$ times Glorot's here, is near the gain of $5/3$
#   usually advised for tanh); both are far ahead of the four bad starts.
# * Adam rescales each weight's step, which makes up part of a poor scale: after a few
#   epochs Glorot with ReLU catches up with He (at full size their validation losses end
#   equal), though the first epochs are He's.
#
# On a GPU: these networks are small (170,410 parameters, batches of 128), so a GPU barely
# speeds them up; the twelve trainings take a few minutes on a laptop's CPU.

# %% slideshow={"slide_type": "skip"}
def layer_stds(values):
    return np.array([np.std(v) for v in values])


def std_ratio(values):
    """Last over first layer's standard deviation."""
    return np.std(values[-1]) / np.std(values[0])


low, high = initialisation.STD_RATIO_BAND  # "roughly constant": within a factor 4
assert model.count_params() == 170_410
keras.utils.set_random_seed(0)
fresh = deep_mlp(keras.initializers.HeNormal)  # this notebook's first step is the package's (keraslab run)
ours, package = first_step(fresh, batch_images, batch_labels), initialisation.first_step(fresh, batch_images, batch_labels)
assert all(np.allclose(a, b, rtol=1e-5, atol=1e-7) for a, b in zip(ours[0] + ours[1], package.activations + package.gradients))
for name in ("relu zeros", "tanh zeros", "relu constant", "tanh constant"):
    assert unit_spreads[name] < initialisation.SAME_UNITS, (name, unit_spreads[name])  # copies, to round-off
for name in ("relu glorot", "relu he", "tanh glorot", "tanh he"):
    assert unit_spreads[name] > 0.1, (name, unit_spreads[name])
for activation in ("relu", "tanh"):  # the small normal: the gradient vanishes layer by layer towards layer 1
    gradient_stds = layer_stds(steps[f"{activation} small-normal"][1])
    assert np.all(np.diff(gradient_stds) > 0) and gradient_stds[0] < 1e-3 * gradient_stds[-1], gradient_stds
relu_large_activations, relu_large_gradients = steps["relu large-normal"]
assert std_ratio(relu_large_activations) > 1e3 and 1 / std_ratio(relu_large_gradients) > 1e3  # explode
assert np.mean(np.abs(steps["tanh large-normal"][0][-1]) > 0.99) > 0.5  # tanh saturates
for name in ("relu he", "tanh glorot"):
    assert low <= std_ratio(steps[name][0]) <= high, (name, std_ratio(steps[name][0]))
assert std_ratio(steps["relu glorot"][0]) < low  # Glorot is not made for ReLU
if CHECK_CLAIMS:
    final = {name: history["loss"][-1] if len(history["loss"]) == epochs else np.inf  # stopped: diverged
             for name, history in histories.items()}
    final = {name: loss if np.isfinite(loss) else np.inf for name, loss in final.items()}
    relu_fastest = min((name for name in final if name.startswith("relu")), key=final.get)
    tanh_fastest = min((name for name in final if name.startswith("tanh")), key=final.get)
    assert relu_fastest == "relu he", final
    assert tanh_fastest in ("tanh glorot", "tanh he"), final
    for start in ("zeros", "constant", "small-normal", "large-normal"):
        assert final["tanh glorot"] < final[f"tanh {start}"], final
print("the lesson's claims hold")
