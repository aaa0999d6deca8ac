"""Figures without pyplot: draw on a given matplotlib Axes, or on a new Figure.

Every figure function of keraslab takes ``ax=`` (an Axes, or an array of Axes for
figures with several panels) and returns the ``matplotlib.figure.Figure`` it drew on.
Without ``ax`` it makes its own Figure, not registered with pyplot: no backend is
switched and a notebook's inline backend shows the returned Figure as is. Nothing is
written to disk unless ``save(figure, path)`` is called.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure


def axes_or_new(ax, figsize: tuple[float, float], ncols: int = 1):
    """``(figure, ax)``: the given Axes (or array of Axes) and its figure, or a new figure with ``ncols`` panels."""
    if ax is not None:
        first = np.ravel(ax)[0] if isinstance(ax, (np.ndarray, list, tuple)) else ax
        return first.figure, ax
    figure = Figure(figsize=figsize)
    return figure, figure.subplots(1, ncols) if ncols > 1 else figure.subplots()


def save(figure: Figure, path: Path | str, dpi: int = 100) -> Path:
    """Write ``figure`` as a PNG (layout tightened first); return the path."""
    figure.tight_layout()
    figure.savefig(path, dpi=dpi)
    return Path(path)


def learning_curves(history: Mapping[str, Sequence[float]], *, ax=None, title: str = "") -> Figure:
    """Loss (and accuracy, where recorded) per epoch, training and validation.

    ``history`` is Keras' ``History.history``: one value per epoch per metric. With
    accuracy recorded ``ax`` must be two Axes (loss, accuracy).
    """
    panels = [metric for metric in ("loss", "accuracy") if metric in history]
    figure, axes = axes_or_new(ax, (5 * len(panels), 3.6), ncols=len(panels))
    for panel, metric in zip(np.atleast_1d(axes), panels):
        epochs = np.arange(1, len(history[metric]) + 1)
        panel.plot(epochs, history[metric], "o-", label="training")
        if f"val_{metric}" in history:
            panel.plot(epochs, history[f"val_{metric}"], "s--", label="validation")
        panel.set(xlabel="epoch", ylabel=metric)
        if metric == "loss" and min(history[metric]) > 0:
            panel.set_yscale("log")
        panel.legend()
        panel.grid(alpha=0.3)
    if title:
        figure.suptitle(title)
    return figure
