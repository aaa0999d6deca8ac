"""Day-one figures: each draws on a given matplotlib ``ax`` or on a new Figure, and returns the Figure.

Conventions as in ``keraslab.figures`` (no pyplot, nothing saved unless ``figures.save``
is called). Arrays are plain NumPy: inputs ``x`` of shape (samples, 10), targets and
predictions of shape (samples,) or (samples, 1), images (n, 28, 28), class
probabilities (n, 10).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from keraslab.day1.toy import hidden_variable
from keraslab.figures import axes_or_new


def hidden_structure(x: np.ndarray, y: np.ndarray, *, ax=None, features: int = 3) -> Figure:
    """y against a few single inputs x_k (looks random) and against sum x_k^2 (a clean sine).

    ``ax``: ``features + 1`` Axes, or None for a new figure.
    """
    figure, axes = axes_or_new(ax, (3.2 * (features + 1), 3.2), ncols=features + 1)
    axes = np.ravel(axes)
    for k, panel in enumerate(axes[:-1]):
        panel.scatter(x[:, k], y, s=2, alpha=0.3)
        panel.set_xlabel(f"$x_{k}$")
    axes[0].set_ylabel("y")
    axes[-1].scatter(hidden_variable(x), y, s=2, alpha=0.3, color="C1")
    axes[-1].set_xlabel(r"$\sum_k x_k^2$ (the hidden variable)")
    return figure


def regression_truth(x: np.ndarray, y: np.ndarray, prediction: np.ndarray, *, ax=None) -> Figure:
    """Prediction and truth against the hidden variable sum x_k^2."""
    figure, ax = axes_or_new(ax, (6, 4))
    hidden = hidden_variable(x)
    ax.scatter(hidden, y, s=2, alpha=0.4, label="truth: sin(sum x²)")
    ax.scatter(hidden, np.ravel(prediction), s=2, alpha=0.4, label="network prediction")
    ax.set(xlabel=r"$\sum_k x_k^2$", ylabel="y")
    ax.legend(markerscale=5)
    return figure


def prediction_grid(images: np.ndarray, labels: np.ndarray, probabilities: np.ndarray,
                    class_names: Sequence[str], *, ax=None, count: int = 15) -> Figure:
    """The first images with predicted class, confidence and true class (blue: right, red: wrong).

    ``ax``: an array of at least ``count`` Axes (e.g. ``plt.subplots(3, 5)[1]``), or None.
    """
    count = min(count, len(images))
    columns = 5
    rows = -(-count // columns)
    if ax is None:
        figure = Figure(figsize=(2.2 * columns, 2.5 * rows))
        ax = figure.subplots(rows, columns, squeeze=False)
    figure = np.ravel(ax)[0].figure
    for i, panel in enumerate(np.ravel(ax)):
        panel.axis("off")
        if i >= count:
            continue
        predicted = int(np.argmax(probabilities[i]))
        panel.imshow(images[i], cmap="binary")
        colour = "tab:blue" if predicted == int(labels[i]) else "tab:red"
        panel.set_title(f"{class_names[predicted]} {100 * probabilities[i][predicted]:.0f}%\n"
                        f"({class_names[int(labels[i])]})", color=colour, fontsize=8)
    return figure


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, class_names: Sequence[str], *, ax=None) -> Figure:
    """Confusion matrix normalised per true class (scikit-learn's display)."""
    from sklearn.metrics import ConfusionMatrixDisplay

    figure, ax = axes_or_new(ax, (7, 6))
    ConfusionMatrixDisplay.from_predictions(labels, predicted, display_labels=list(class_names), normalize="true",
                                            values_format=".2f", ax=ax, colorbar=False, xticks_rotation=60)
    ax.set_title("fraction of each true class")
    return figure


def overtraining_overlay(histories: Mapping[str, Mapping[str, Sequence[float]]],
                         best_epochs: Mapping[str, int], *, ax=None) -> Figure:
    """Training (solid) and validation (dashed) loss of several networks; a star marks where
    early stopping would keep the weights (lowest validation loss, ``best_epochs`` 1-based)."""
    figure, ax = axes_or_new(ax, (7, 4.5))
    for i, (name, history) in enumerate(histories.items()):
        epochs = np.arange(1, len(history["loss"]) + 1)
        ax.plot(epochs, history["loss"], "-", color=f"C{i}", label=f"{name} (training)")
        ax.plot(epochs, history["val_loss"], "--", color=f"C{i}", label=f"{name} (validation)")
        best = best_epochs[name]
        ax.plot(best, history["val_loss"][best - 1], "*", color=f"C{i}", markersize=14, markeredgecolor="k")
    ax.set(xlabel="epoch", ylabel="loss", title="over-training: ★ = early stopping (lowest validation loss)")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    return figure
