"""The networks of the parts beyond the slides, one plain builder each, by name in ``BUILDERS``.

``keraslab.models.build(name)`` finds them with both days' networks; the notebooks'
networks are tested to be identical to these (tests/test_notebooks_twins.py).
Shapes are per sample, without the batch axis.
"""

from __future__ import annotations

from collections.abc import Callable

import keras

BUILDERS: dict[str, Callable[..., keras.Model]] = {}


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
