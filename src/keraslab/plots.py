"""Day-one figures as PNG files (matplotlib, Agg backend: no display needed).

Every function takes plain arrays or a history dict (``{"loss": [...], ...}``, one
value per epoch), writes one PNG and returns its path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _save(fig, path: Path) -> Path:
    path = Path(path)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def learning_curves(history: Mapping[str, Sequence[float]], path: Path, title: str = "") -> Path:
    """Loss (and accuracy, where recorded) per epoch for training and validation."""
    panels = [m for m in ("loss", "accuracy") if m in history]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
    for ax, metric in zip(axes[0], panels):
        epochs = np.arange(1, len(history[metric]) + 1)
        ax.plot(epochs, history[metric], "o-", label="training")
        if f"val_{metric}" in history:
            ax.plot(epochs, history[f"val_{metric}"], "s--", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        if metric == "loss" and min(history[metric]) > 0:
            ax.set_yscale("log")
        ax.legend()
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return _save(fig, path)
