"""Every network of the lab by name, and day one's way of compiling them.

``build(name, **options) -> keras.Model`` looks ``name`` up among both days' builders
and the parts beyond the slides
(``keraslab.day1.networks``, ``keraslab.toptag.networks``, ``keraslab.beyond.networks``) and builds it
uncompiled; ``compile_for(model, name, ...)`` compiles a day-one network with the
recipe of its part in ``keraslab.day1.catalog``, which the "play with the parameters"
knobs may override. Architecture and training are kept apart because the slides vary
them independently.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import keras

from keraslab.beyond import networks as beyond_networks
from keraslab.day1 import catalog
from keraslab.day1 import networks as day1_networks
from keraslab.errors import UserError, choose
from keraslab.toptag import networks as toptag_networks

OPTIMIZERS = ("sgd", "sgd-momentum", "adam")
SGD_MOMENTUM = 0.9  # "SGD with momentum" on the slides: the usual 0.9
BUILDERS: dict[str, Callable[..., keras.Model]] = {
    **day1_networks.BUILDERS, **toptag_networks.BUILDERS, **beyond_networks.BUILDERS}


def build(name: str, **options: Any) -> keras.Model:
    """The network ``name``, uncompiled; ``options`` are keyword arguments of its builder (``BUILDERS[name]``).

    An unknown name is an ``UnknownChoice`` listing the names; an option the builder
    does not take is a ``UserError`` naming it.
    """
    builder = BUILDERS[choose("network", name, BUILDERS)]
    unknown = sorted(set(options) - set(inspect.signature(builder).parameters))
    if unknown:
        raise UserError(f"network {name!r} has no option(s) {', '.join(unknown)}")
    return builder(**options)


def make_optimizer(optimizer: str, learning_rate: float, decay_steps: int | None = None) -> keras.optimizers.Optimizer:
    """A Keras optimiser by its lab name: "sgd", "sgd-momentum" (momentum 0.9) or "adam".

    With ``decay_steps`` the learning rate falls from ``learning_rate`` to 0 along a
    cosine over that many batches (``keras.optimizers.schedules.CosineDecay``).
    """
    choose("optimizer", optimizer, OPTIMIZERS)
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
    """Compile ``model`` with the loss, metrics and optimiser of the day-one network ``name``.

    The recipe is that of the part training it (``catalog.trained_by``); ``optimizer``
    and ``learning_rate`` override the part's. ``decay_steps`` adds a cosine decay of
    the learning rate to 0 over that many batches. ``steps_per_execution`` runs several
    batches per compiled call: the same maths, much less overhead for small networks.
    Returns the model.
    """
    part = catalog.trained_by(name)
    rate = part.learning_rate if learning_rate is None else learning_rate
    model.compile(
        optimizer=make_optimizer(optimizer or part.optimizer, rate, decay_steps),
        loss=part.loss,
        metrics=list(part.metrics),
        steps_per_execution=steps_per_execution,
        jit_compile=jit_compile,
    )
    return model
