"""Reverse-mode automatic differentiation on the active Keras backend.

Keras 3 computes its forward pass with ``keras.ops`` on any backend, but it
has no backend-independent ``grad``: each backend keeps its own autodiff
(``tf.GradientTape`` for TensorFlow, ``jax.grad`` for JAX,
``torch.autograd`` for PyTorch). This module is the small dispatch that lets
the back-up demonstrations check their hand-written gradients against
whichever backend the student runs (``KERAS_BACKEND``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np

from keraslab.errors import UserError


def backend_gradient(loss: Callable[..., object], params: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Gradient of a scalar ``loss(*params)`` with respect to each parameter.

    ``loss`` must be written with ``keras.ops`` so it runs on any backend.
    The parameters are converted to Keras' float type (``keras.config.floatx()``,
    float32 by default), so the gradient carries float32 round-off (~1e-7
    relative). Returns one NumPy array per parameter, same shapes.
    """
    dtype = keras.config.floatx()
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tensors = [tf.constant(np.asarray(p, dtype=dtype)) for p in params]
        with tf.GradientTape() as tape:
            for tensor in tensors:
                tape.watch(tensor)
            value = loss(*tensors)
        grads = tape.gradient(value, tensors)
    elif backend == "jax":
        import jax
        import jax.numpy as jnp

        tensors = [jnp.asarray(p, dtype=dtype) for p in params]
        grads = jax.grad(loss, argnums=tuple(range(len(tensors))))(*tensors)
    else:
        raise UserError(f"automatic differentiation is not wired for the {backend!r} backend; "
                        "set KERAS_BACKEND=tensorflow or jax")
    return [np.asarray(keras.ops.convert_to_numpy(g), dtype=np.float64) for g in grads]
