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


def hidden_structure(x: np.ndarray, y: np.ndarray, path: Path, features: int = 3) -> Path:
    """y against a few single inputs x_k (looks random) and against sum x_k^2 (a clean sine)."""
    fig, axes = plt.subplots(1, features + 1, figsize=(3.2 * (features + 1), 3.2), sharey=True)
    for k, ax in enumerate(axes[:-1]):
        ax.scatter(x[:, k], y, s=2, alpha=0.3)
        ax.set_xlabel(f"$x_{k}$")
    axes[0].set_ylabel("y")
    axes[-1].scatter(np.sum(x**2, axis=1), y, s=2, alpha=0.3, color="C1")
    axes[-1].set_xlabel(r"$\sum_k x_k^2$ (the hidden variable)")
    return _save(fig, path)


def regression_truth(x: np.ndarray, y: np.ndarray, prediction: np.ndarray, path: Path) -> Path:
    """Prediction and truth against the hidden variable sum x_k^2."""
    hidden = np.sum(x**2, axis=1)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(hidden, y, s=2, alpha=0.4, label="truth: sin(sum x²)")
    ax.scatter(hidden, np.ravel(prediction), s=2, alpha=0.4, label="network prediction")
    ax.set_xlabel(r"$\sum_k x_k^2$")
    ax.set_ylabel("y")
    ax.legend(markerscale=5)
    return _save(fig, path)


def prediction_grid(images: np.ndarray, labels: np.ndarray, probabilities: np.ndarray,
                    class_names: Sequence[str], path: Path, count: int = 15) -> Path:
    """The first test images with predicted class, confidence and truth (blue right, red wrong)."""
    count = min(count, len(images))
    columns = 5
    rows = (count + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.5 * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= count:
            continue
        predicted = int(np.argmax(probabilities[i]))
        ax.imshow(images[i], cmap="binary")
        colour = "tab:blue" if predicted == int(labels[i]) else "tab:red"
        ax.set_title(f"{class_names[predicted]} {100 * probabilities[i][predicted]:.0f}%\n"
                     f"({class_names[int(labels[i])]})", color=colour, fontsize=8)
    return _save(fig, path)


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, class_names: Sequence[str], path: Path) -> Path:
    """Confusion matrix of the test set, normalised per true class (scikit-learn)."""
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, ax = plt.subplots(figsize=(7, 6))
    ConfusionMatrixDisplay.from_predictions(labels, predicted, display_labels=list(class_names), normalize="true",
                                            values_format=".2f", ax=ax, colorbar=False, xticks_rotation=60)
    ax.set_title("fraction of each true class")
    return _save(fig, path)


def overtraining_overlay(histories: Mapping[str, Mapping[str, Sequence[float]]],
                         best_epochs: Mapping[str, int], path: Path) -> Path:
    """Training (solid) and validation (dashed) loss of several networks; a star marks where
    early stopping would keep the weights (lowest validation loss)."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, (name, history) in enumerate(histories.items()):
        epochs = np.arange(1, len(history["loss"]) + 1)
        ax.plot(epochs, history["loss"], "-", color=f"C{i}", label=f"{name} (training)")
        ax.plot(epochs, history["val_loss"], "--", color=f"C{i}", label=f"{name} (validation)")
        best = best_epochs[name]
        ax.plot(best, history["val_loss"][best - 1], "*", color=f"C{i}", markersize=14, markeredgecolor="k")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title("over-training: ★ = early stopping (lowest validation loss)")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    return _save(fig, path)
