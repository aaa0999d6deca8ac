"""Self-checks for labs/09_initialisation.py (initial values of the weights).

``from keraslab.check import initialisation as check``; each check prints one line and
returns a ``Verdict`` (see ``keraslab.check``).
"""

from __future__ import annotations

import numpy as np

from keraslab.check import Hint, _exercise, _given, _model

STD_TOLERANCE = 1e-3  # relative: float32 sums over 256 x 100 activations in another order
PROBE_IMAGES = 256  # the check's own images: uniform pixels in [0, 1], fixed seed


def _probe_images() -> np.ndarray:
    return np.random.default_rng(2019).uniform(0, 1, (PROBE_IMAGES, 28, 28)).astype("float32")


@_exercise("an initialiser that keeps the ReLU activations' spread")
def relu_initializer(initializer) -> str:
    """``initializer``: a name or a function making a Keras initializer, for deep-mlp with ReLU; its
    activations' std in the last hidden layer must be within ``STD_RATIO_BAND`` of the first's."""
    import keras

    from keraslab import models
    from keraslab.beyond import initialisation as lesson

    initializer = _given(initializer, "relu_initializer", "your choice of initializer")
    if isinstance(initializer, keras.initializers.Initializer):
        raise Hint("give the initializer's class (e.g. keras.initializers.GlorotUniform, no brackets) or a function "
                   "that makes a new one, as in the `initializers` dict: one object would give every layer the "
                   "same weights")
    if isinstance(initializer, str):
        keras.initializers.get(initializer)  # an unknown name fails here, as one line
    keras.utils.set_random_seed(0)
    model = models.build(lesson.NETWORK, kernel_initializer=initializer, activation="relu")
    first_kernel = model.layers[1].get_weights()[0]
    if lesson.unit_spread(first_kernel) < lesson.SAME_UNITS:
        raise Hint("every unit of a layer starts with the same weights, so they stay copies of each other: "
                   "draw the weights at random")
    ratio = lesson.std_ratio(lesson.activation_stds(model, _probe_images()))
    low, high = lesson.STD_RATIO_BAND
    if not ratio >= low:
        raise Hint(f"the activations' std shrinks from the first to the last hidden layer (by {ratio:.2g}): draw "
                   "larger weights; remember that ReLU sets about half of its inputs to 0")
    if ratio > high:
        raise Hint(f"the activations' std grows from the first to the last hidden layer (by {ratio:.2g}): "
                   "draw smaller weights")
    return f"the last hidden layer's std is {ratio:.2f} times the first's, within [{low:g}, {high:g}]"


@_exercise("the std of each hidden layer's activations")
def activation_stds(stds, model, images) -> str:
    """``stds``: one number per hidden Dense layer of ``model``, the std of its outputs over ``images``."""
    from keraslab.beyond import initialisation as lesson

    stds = np.asarray(_given(stds, "activation_stds", "your list of stds"), dtype=np.float64)
    model = _model(model)
    expected = lesson.activation_stds(model, np.asarray(images))
    if stds.ndim != 1 or stds.size != expected.size:
        raise Hint(f"{stds.size} numbers given, in shape {stds.shape}; give one number per hidden layer, "
                   f"{expected.size} in all (the Flatten and the output layer are not hidden layers), each the std "
                   "over every image and every unit of that layer")
    wrong = np.flatnonzero(~np.isclose(stds, expected, rtol=STD_TOLERANCE, atol=1e-12))
    if wrong.size:
        layer = int(wrong[0]) + 1
        raise Hint(f"hidden layer {layer} differs: take the layer's outputs (after its activation) for all the "
                   "images and np.std of all of them together")
    return f"{expected.size} layers, from {expected[0]:.3g} to {expected[-1]:.3g}"
