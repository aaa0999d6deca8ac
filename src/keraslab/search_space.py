"""Search spaces for ``keraslab scan``: what each knob of a part may take, as plain data.

The catalogs (``keraslab.day1.catalog``, ``keraslab.toptag.catalog``) give every part
its space next to its defaults, so this module imports neither Keras nor Optuna;
``suggest`` turns a space into one trial's options with Optuna's ``trial.suggest_*``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Choice:
    """One of ``values``."""

    values: tuple


@dataclass(frozen=True)
class Range:
    """A number in [low, high]; ``log``: uniform in its logarithm; ``integer``: whole numbers only."""

    low: float
    high: float
    log: bool = False
    integer: bool = False


@dataclass(frozen=True)
class Layers:
    """Hidden layers: ``depth`` = (fewest, most) layers, ``units`` = (fewest, most) units per layer (log-uniform)."""

    depth: tuple[int, int]
    units: tuple[int, int]


Space = dict[str, Choice | Range | Layers]


def describe(space: Space) -> str:
    """One line per knob, for --help and the scan's first lines."""
    def one(spec) -> str:
        if isinstance(spec, Choice):
            return "/".join(map(str, spec.values))
        if isinstance(spec, Layers):
            return f"{spec.depth[0]}-{spec.depth[1]} layers of {spec.units[0]}-{spec.units[1]} units"
        return f"{spec.low:g}-{spec.high:g}" + (" (log)" if spec.log else "")
    return "; ".join(f"{name}: {one(spec)}" for name, spec in space.items())


def suggest(trial, space: Space) -> dict[str, Any]:
    """One trial's options from ``space`` (an Optuna ``trial``); ``Layers`` become a tuple of units."""
    options: dict[str, Any] = {}
    for name, spec in space.items():
        if isinstance(spec, Choice):
            # Optuna stores only plain values: a tuple (e.g. filters per block) is chosen by its "16,32" label
            labels = {",".join(map(str, value)) if isinstance(value, tuple) else value: value for value in spec.values}
            options[name] = labels[trial.suggest_categorical(name, list(labels))]
        elif isinstance(spec, Layers):
            depth = trial.suggest_int(f"{name}_depth", *spec.depth)
            options[name] = tuple(trial.suggest_int(f"{name}_{i}_units", *spec.units, log=True) for i in range(depth))
        elif spec.integer:
            options[name] = trial.suggest_int(name, int(spec.low), int(spec.high), log=spec.log)
        else:
            options[name] = trial.suggest_float(name, spec.low, spec.high, log=spec.log)
    return options
