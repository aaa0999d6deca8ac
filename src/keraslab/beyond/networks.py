"""The networks of the parts beyond the slides, one plain builder each, by name in ``BUILDERS``.

``keraslab.models.build(name)`` finds them with both days' networks; the notebooks'
networks are tested to be identical to these (tests/test_notebooks_twins.py).
Shapes are per sample, without the batch axis.
"""

from __future__ import annotations

from collections.abc import Callable

import keras

BUILDERS: dict[str, Callable[..., keras.Model]] = {}


# --- autoencoders (labs/10_autoencoders.py) ---------------------------------------------------
# Fashion-MNIST images (28, 28) in [0, 1] -> a code of `bottleneck` numbers (the layer named
# "bottleneck", linear) -> the image again (sigmoid pixels). Trained with the MSE, labels unused.


def dense_autoencoder(bottleneck: int = 32) -> keras.Model:
    """Flatten -> Dense(128, relu) -> Dense(bottleneck) -> Dense(128, relu) -> Dense(784, sigmoid) -> Reshape."""
    layers = keras.layers
    return keras.Sequential([
        keras.Input(shape=(28, 28)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(bottleneck, name="bottleneck"),
        layers.Dense(128, activation="relu"),
        layers.Dense(28 * 28, activation="sigmoid"),
        layers.Reshape((28, 28)),
    ], name=f"dense_autoencoder_{bottleneck}")


def conv_autoencoder(bottleneck: int = 32) -> keras.Model:
    """Conv2D(16)/MaxPool, Conv2D(8)/MaxPool -> Dense(bottleneck) -> Dense(7*7*8) -> two Conv2DTranspose up to 28x28.

    The transposed convolutions' kernel (4) is a multiple of their stride (2), so every output
    pixel gets the same number of kernel taps: no checkerboard pattern (Odena, Dumoulin and
    Olah, "Deconvolution and Checkerboard Artifacts", Distill 2016).
    """
    layers = keras.layers
    return keras.Sequential([
        keras.Input(shape=(28, 28)),
        layers.Reshape((28, 28, 1)),
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(8, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(bottleneck, name="bottleneck"),
        layers.Dense(7 * 7 * 8, activation="relu"),
        layers.Reshape((7, 7, 8)),
        layers.Conv2DTranspose(16, 4, strides=2, padding="same", activation="relu"),
        layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="sigmoid"),
        layers.Reshape((28, 28)),
    ], name=f"conv_autoencoder_{bottleneck}")


BUILDERS.update({"dense-autoencoder": dense_autoencoder, "conv-autoencoder": conv_autoencoder})


# --- weight initialisation (labs/09_initialisation.py) -----------------------------------------
# Fashion-MNIST images (28, 28) -> 10 Dense(100) -> 10 logits (no softmax: the loss takes the logits,
# exact where a too-large initialisation saturates a softmax). 170,410 parameters.


def deep_mlp(kernel_initializer="glorot_uniform", activation: str = "relu", depth: int = 10,
             units: int = 100) -> keras.Model:
    """Flatten -> ``depth`` Dense(``units``, ``activation``) -> Dense(10) logits, every kernel from ``kernel_initializer``.

    ``kernel_initializer``: a name (Keras makes a new initializer of it for each layer) or a
    function that returns a new initializer (e.g. a class), called for each layer: one
    initializer object without a seed draws the same numbers each time it is used.
    """
    from keraslab.errors import UserError

    if isinstance(kernel_initializer, keras.initializers.Initializer):
        raise UserError("deep-mlp takes the initializer's name or a function that makes a new one for each layer "
                        "(e.g. keras.initializers.HeNormal, lambda: keras.initializers.RandomNormal(stddev=0.1)), "
                        "not one initializer object: it would give every layer the same weights")
    new = kernel_initializer if callable(kernel_initializer) else lambda: kernel_initializer
    layers = keras.layers
    model = keras.Sequential([keras.Input(shape=(28, 28)), layers.Flatten()], name="deep_mlp")
    for _ in range(depth):
        model.add(layers.Dense(units, activation=activation, kernel_initializer=new()))
    model.add(layers.Dense(10, kernel_initializer=new()))
    return model


BUILDERS["deep-mlp"] = deep_mlp


# --- anomaly detection on jets (labs/11_anomaly_jets.py) -------------------------------------
# Jet images (40, 40, 1), each summing to 1 -> a code of `bottleneck` numbers (the layer named
# "bottleneck", linear) -> the image again (linear pixels). Trained on QCD jets only, with the MSE.


def jet_autoencoder(bottleneck: int = 32) -> keras.Model:
    """Flatten -> Dense(128, relu) -> Dense(bottleneck) -> Dense(128, relu) -> Dense(1600) -> Reshape((40, 40, 1))."""
    layers = keras.layers
    return keras.Sequential([
        keras.Input(shape=(40, 40, 1)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(bottleneck, name="bottleneck"),
        layers.Dense(128, activation="relu"),
        layers.Dense(40 * 40),
        layers.Reshape((40, 40, 1)),
    ], name=f"jet_autoencoder_{bottleneck}")


BUILDERS["jet-autoencoder"] = jet_autoencoder
