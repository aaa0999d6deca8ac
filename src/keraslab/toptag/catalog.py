"""The day-two models by name: their input, preferred backend and training defaults.

Kept free of Keras imports so the command line can read it, pick the backend
and only then import Keras. The networks themselves are in ``networks.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from keraslab.errors import choose
from keraslab.search_space import Range, Space

# what `keraslab scan NAME` varies for every network unless its entry says otherwise (keraslab.search_space)
TRAINING_SPACE: Space = {
    "learning_rate": Range(1e-4, 1e-2, log=True),
    "batch_size": Range(32, 512, log=True, integer=True),
}


@dataclass(frozen=True)
class ModelSpec:
    """What the command line needs to know about one network before building it."""

    name: str
    summary: str
    inputs: str  # an input kind of keraslab.toptag.inputs
    backend: str  # the faster Keras backend for it on a CPU (docs/toptag.md, "Backend")
    epochs: int  # default number of epochs
    batch_size: int
    learning_rate: float
    n_constituents: int | None = None  # particle inputs: hardest constituents kept
    patience: int = 3  # early stopping: epochs without a lower validation loss (0: run every epoch)
    search_space: Space = field(default_factory=lambda: dict(TRAINING_SPACE))


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("toptag-dnn", "the lab's DNN: first 20 constituents (E, px, py, pz) -> Dense(50) -> Dense(2)",
                  "constituents20", "jax", 10, 128, 1e-3),
        ModelSpec("toptag-image-dense", "the lab's dense network on the flattened 40x40 jet image",
                  "image", "jax", 5, 128, 1e-3),
        ModelSpec("toptag-cnn", "the lab's CNN: Conv2D(8, 4x4) -> MaxPooling2D(2) -> Dense(2), 6,538 parameters",
                  "image", "tensorflow", 5, 128, 1e-3),
        ModelSpec("toptag-cnn-improved", "a DeepTop-style CNN: four 3x3 convolutions, two poolings, dense 64-64, dropout",
                  "image", "tensorflow", 15, 128, 1e-3),
        ModelSpec("toptag-pfn", "a Particle-Flow Network: per-particle Phi, masked sum, F (Komiske et al. 2019)",
                  "particles", "jax", 20, 128, 1e-3, n_constituents=100),
        ModelSpec("toptag-particlenet", "ParticleNet-Lite: two EdgeConv blocks on 7 nearest neighbours in (eta, phi)",
                  "particles", "tensorflow", 15, 128, 1e-3, n_constituents=100),
    )
}

CUT_BASELINE = "toptag-baseline"  # the jet-data engineer's cut-based tagger (mass and N-subjettiness)
NSUB_BASELINE = "toptag-nsub"  # nsub+m: gradient boosting on mass and N-subjettiness (keraslab.toptag.baseline)


def spec(name: str) -> ModelSpec:
    """The model called ``name``; ``UnknownChoice`` listing the names if unknown."""
    return MODELS[choose("top-tagging model", name, MODELS)]
