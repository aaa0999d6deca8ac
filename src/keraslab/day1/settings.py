"""The default settings of each day-one part: the slides' values, kept in one place.

Keras-free, so the command line can show them in ``--help`` without importing Keras.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """Training settings of one part (the network's architecture defaults live in ``keraslab.models``)."""

    layers: tuple[int, ...]
    optimizer: str
    learning_rate: float
    batch_size: int
    epochs: int
    samples: int = 10_000  # toy parts only
    activation: str = "relu"


REGRESSION = Settings(layers=(20, 30), optimizer="sgd", learning_rate=0.01, batch_size=32, epochs=10)
CLASSIFICATION = Settings(layers=(100, 100), optimizer="adam", learning_rate=1e-3, batch_size=256, epochs=25)
FASHION_MLP = Settings(layers=(512, 512), optimizer="adam", learning_rate=1e-3, batch_size=32, epochs=5)
# Over-training: longer runs, so batch 128 keeps `make lab` short; 1/6 of the training images validate
OVERTRAINING = Settings(layers=(512, 512), optimizer="adam", learning_rate=1e-3, batch_size=128, epochs=20)
OVERTRAINING_VALIDATION = 1 / 6
OVERTRAINING_VARIANTS = ("fashion-mlp", "fashion-mlp-l2", "fashion-mlp-batchnorm", "fashion-mlp-dropout", "fashion-mlp-small")
# "Improve it!": Conv2D filters (32, 64), Dense(128), Dropout 0.3; the learning rate is the
# peak of a cosine decay to 0. Measured to reach a test accuracy of about 0.93 (docs/day1.md).
CNN = Settings(layers=(32, 64), optimizer="adam", learning_rate=3e-3, batch_size=128, epochs=9)
CNN_DENSE, CNN_DROPOUT = 128, 0.3
