"""The day-one parts by name: their networks, training recipe, preferred backend and report title.

The one home of each part's defaults. Kept free of Keras imports so the command line
can show them in ``--help`` and pick the backend before Keras is imported. The
networks are built in ``networks.py``; ``commands.py`` makes ``keraslab run NAME`` of
each entry, and ``parts.py`` runs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from keraslab.errors import choose
from keraslab.search_space import Choice, Layers, Range, Space


@dataclass(frozen=True)
class Part:
    """One day-one part: what ``keraslab run NAME`` trains, and how."""

    name: str
    summary: str  # the first line of `keraslab run NAME --help`
    title: str  # its heading in the `keraslab lab` report
    runner: str  # the function of keraslab.day1.parts that runs it
    networks: tuple[str, ...]  # names in networks.BUILDERS; over-training compares several (its --variants)
    options: tuple[str, ...]  # options of `keraslab run NAME` besides --out, --resume, --overwrite, in --help order
    loss: str  # a Keras loss name
    metrics: tuple[str, ...]  # Keras metric names, recorded per epoch besides the loss
    optimizer: str  # one of keraslab.models.OPTIMIZERS
    learning_rate: float  # the peak of the schedule where there is one
    batch_size: int
    epochs: int
    backend: str  # the faster Keras backend for it on a CPU (docs/day1.md, "Backends and speed")
    slides_sizes: bool = True  # batch size and epochs are the slides' own (--help says so)
    schedule: str | None = None  # "cosine": the learning rate falls from learning_rate to 0 along a cosine over the run
    samples: int | None = None  # toy parts: generated samples
    validation: float | None = None  # share of the training samples held out to validate
    search_space: Space = field(default_factory=dict)  # what `keraslab scan NAME` varies (keraslab.search_space)


_TEN_CLASSES = {"loss": "sparse_categorical_crossentropy", "metrics": ("accuracy",)}
_DENSE_OPTIONS = ("layers", "activation", "optimizer", "learning-rate", "batch-size", "epochs")
_TOY_OPTIONS = ("samples", *_DENSE_OPTIONS, "seed")
# "Play with the parameters" (the slides' list): layers, nodes, activation, optimiser, learning rate, batch size, epochs
_TOY_SPACE: Space = {
    "layers": Layers(depth=(1, 4), units=(10, 200)),
    "activation": Choice(("relu", "tanh", "elu")),
    "optimizer": Choice(("sgd", "sgd-momentum", "adam")),
    "learning_rate": Range(1e-4, 1e-1, log=True),
    "batch_size": Range(16, 512, log=True, integer=True),
    "epochs": Range(10, 100, log=True, integer=True),
}
_FASHION_SPACE: Space = {
    "layers": Layers(depth=(1, 3), units=(64, 1024)),
    "activation": Choice(("relu", "tanh", "elu")),
    "optimizer": Choice(("sgd-momentum", "adam")),
    "learning_rate": Range(1e-4, 1e-2, log=True),
    "batch_size": Range(32, 512, log=True, integer=True),
}

PARTS: dict[str, Part] = {
    part.name: part
    for part in (
        Part("regression", "Part One: regression of y = sin(sum x^2) with a 20-30 network (881 parameters).",
             "Part One: regression of y = sin(Σ x²)", "regression", ("regression",), _TOY_OPTIONS,
             loss="mse", metrics=(), optimizer="sgd", learning_rate=0.01, batch_size=32, epochs=10, backend="jax",
             samples=10_000, search_space=_TOY_SPACE),
        Part("classification",
             "Part Two: binary classification, sin(sum x^2) >= 0, with a 100-100 network (11,301 parameters).",
             "Part Two: binary classification", "classification", ("classification",), _TOY_OPTIONS,
             loss="binary_crossentropy", metrics=("accuracy",), optimizer="adam", learning_rate=1e-3, batch_size=256,
             epochs=25, backend="jax", samples=10_000, validation=0.2, search_space=_TOY_SPACE),
        Part("fashion-mnist",
             "Fashion-MNIST with the slides' 512-512 network (669,706 parameters), evaluated on the test set.",
             "Fashion-MNIST with the slides' dense network", "images", ("fashion-mlp",), ("data-dir", *_DENSE_OPTIONS),
             **_TEN_CLASSES, optimizer="adam", learning_rate=1e-3, batch_size=32, epochs=5, backend="jax",
             search_space=_FASHION_SPACE),
        # longer runs than the slides', so batch 128 keeps `make lab` short; 1/6 of the training images validate
        Part("overtraining",
             "Over-training: the MLP with L2, BatchNormalization, Dropout(0.3) and a smaller 256-128 network.",
             "Over-training: regularisation and early stopping", "overtraining",
             ("fashion-mlp", "fashion-mlp-l2", "fashion-mlp-batchnorm", "fashion-mlp-dropout", "fashion-mlp-small"),
             ("data-dir", "variants", "batch-size", "epochs"),
             **_TEN_CLASSES, optimizer="adam", learning_rate=1e-3, batch_size=128, epochs=20, backend="jax",
             slides_sizes=False, validation=1 / 6,
             search_space={"variants": Choice(("fashion-mlp", "fashion-mlp-l2", "fashion-mlp-batchnorm",
                                               "fashion-mlp-dropout", "fashion-mlp-small")),
                           "batch_size": Range(32, 512, log=True, integer=True)}),
        # keraslab's own recipe, measured to reach a test accuracy of about 0.93 (docs/day1.md)
        Part("cnn", "\"Improve it!\": a small convolutional network for Fashion-MNIST (TensorFlow backend by default).",
             "Improve it! A small CNN for Fashion-MNIST", "images", ("fashion-cnn",),
             ("data-dir", "filters", "dense", "dropout", "optimizer", "learning-rate", "batch-size", "epochs",
              "precision"),
             **_TEN_CLASSES, optimizer="adam", learning_rate=3e-3, schedule="cosine", batch_size=128, epochs=9,
             backend="tensorflow", slides_sizes=False,
             search_space={"filters": Choice(((16, 32), (32, 64), (32, 64, 128))), "dense": Choice((64, 128, 256)),
                           "dropout": Range(0.0, 0.5), "learning_rate": Range(3e-4, 1e-2, log=True),
                           "batch_size": Range(64, 256, log=True, integer=True)}),
    )
}


def trained_by(network: str) -> Part:
    """The first part that trains ``network``; its loss, metrics, optimiser and learning rate are the network's.

    Parts that train the same network use the same recipe for it (tested).
    """
    first: dict[str, Part] = {}
    for part in PARTS.values():
        for name in part.networks:
            first.setdefault(name, part)
    return first[choose("network", network, first)]
