"""Self-checks of labs/12_backends.py: a model saved as .keras and loaded back; one SGD step by hand in JAX."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from keraslab.check import Hint, _exercise, _given, _model

RELOAD_TOLERANCE = 1e-6  # the same weights on the same backend: equal up to float32 rounding
SGD_TOLERANCE = 1e-5  # one step on a batch of 64; float32 sums in another order stay far below this
SGD_LEARNING_RATE = 0.1


@_exercise("a model saved as .keras and loaded back")
def saved_and_reloaded(path, reloaded, model, images) -> str:
    """``path``: where ``model`` was saved (``model.save(path)``); ``reloaded``: ``keras.saving.load_model(path)``."""
    import zipfile

    path = Path(_given(path, "saved_path", "the path of your .keras file"))
    if path.suffix != ".keras":
        raise Hint(f"{path.name} does not end in .keras: Keras 3 saves a whole model in a .keras file")
    if not path.is_file():
        raise Hint(f"there is no file {path}: call model.save(saved_path)")
    if not zipfile.is_zipfile(path):
        raise Hint(f"{path} is not a .keras archive: write it with model.save(saved_path)")
    reloaded = _model(_given(reloaded, "reloaded", "the model loaded back with keras.saving.load_model"),
                      "reloaded")
    if reloaded is model:
        raise Hint("`reloaded` is the very same object as `model`: load it from the file with "
                   "keras.saving.load_model(saved_path)")
    mine = np.asarray(model.predict(images, verbose=0))
    theirs = np.asarray(reloaded.predict(images, verbose=0))
    if mine.shape != theirs.shape:
        raise Hint(f"`reloaded` gives outputs of shape {theirs.shape}, `model` {mine.shape}: load the file you saved "
                   "`model` in")
    difference = float(np.max(np.abs(mine - theirs)))
    if difference > RELOAD_TOLERANCE:
        raise Hint(f"the reloaded model predicts differently (max |Δ| {difference:.2g}): save `model` after training "
                   "it, then load that file")
    return f"{path.name} ({path.stat().st_size / 1e6:.1f} MB) gives the same predictions (max |Δ| {difference:.1g})"


@_exercise("one SGD step by hand in JAX")
def sgd_step(step) -> str:
    """``step(params, images, labels, learning_rate) -> params``: plain gradient descent on the MLP's loss,
    compared with ``keraslab.beyond.backends.sgd_step`` on a batch of 64 made-up images."""
    import jax

    from keraslab.beyond import backends

    function = _given(step, "sgd_step", "your function")
    if not callable(function):
        raise Hint("`sgd_step` should be a function: def sgd_step(params, images, labels, learning_rate): ...")
    rng = np.random.default_rng(12)
    images = rng.random((64, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, 64)
    params = backends.init_params(seed=12)
    expected = backends.sgd_step(params, images, labels, SGD_LEARNING_RATE)
    got = function(params, images, labels, SGD_LEARNING_RATE)
    got_leaves, expected_leaves = jax.tree.leaves(got), jax.tree.leaves(expected)
    if len(got_leaves) != len(expected_leaves) or any(np.shape(g) != np.shape(e)
                                                      for g, e in zip(got_leaves, expected_leaves)):
        raise Hint("return the parameters in the same structure as `params`: [(W, b), (W, b), (W, b)]; "
                   "jax.tree.map(lambda p, g: ..., params, gradients) keeps it")
    start = [np.asarray(p) for p in jax.tree.leaves(params)]
    got_change = [np.asarray(g) - p for g, p in zip(got_leaves, start)]
    expected_change = [np.asarray(e) - p for e, p in zip(expected_leaves, start)]
    if all(not np.any(change) for change in got_change):
        raise Hint("the parameters did not change: subtract learning_rate times the gradient, jax.grad(loss)(params, "
                   "images, labels)")
    error = max(float(np.max(np.abs(g - e))) for g, e in zip(got_change, expected_change))
    scale = max(float(np.max(np.abs(e))) for e in expected_change)
    if error > SGD_TOLERANCE:
        flipped = max(float(np.max(np.abs(g + e))) for g, e in zip(got_change, expected_change))
        if flipped <= SGD_TOLERANCE:
            raise Hint("your step goes uphill: the gradient points to a larger loss, so subtract it")
        raise Hint(f"your step differs from gradient descent's by up to {error:.2g} (the step itself is up to "
                   f"{scale:.2g}): new parameter = parameter - learning_rate * gradient of the loss")
    return f"the same parameters as gradient descent's step (largest difference {error:.1g})"
