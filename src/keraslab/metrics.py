"""Classifier figures of merit in the physics convention, on scikit-learn's ROC.

Signal efficiency eps_S is the true-positive rate, background efficiency eps_B
the false-positive rate; taggers are compared by the background rejection
1/eps_B at a fixed eps_S (0.3 in the top-tagging reference paper).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve


def roc(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (eps_S, eps_B) along the ROC curve, eps_S increasing."""
    eps_b, eps_s, _ = roc_curve(np.asarray(labels), np.asarray(scores))
    return eps_s, eps_b


def rejection_at(labels: np.ndarray, scores: np.ndarray, signal_efficiency: float = 0.3) -> float:
    """Background rejection 1/eps_B at the given signal efficiency.

    eps_B is interpolated linearly along the ROC curve; where no background
    passes (eps_B = 0) the rejection is infinite.
    """
    eps_s, eps_b = roc(labels, scores)
    eps_b_at = float(np.interp(signal_efficiency, eps_s, eps_b))
    return float("inf") if eps_b_at <= 0 else 1.0 / eps_b_at


def classifier_summary(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """AUC, accuracy at a 0.5 threshold and 1/eps_B at eps_S = 0.3."""
    labels = np.asarray(labels).astype(int)
    scores = np.asarray(scores, dtype=float)
    return {
        "auc": float(roc_auc_score(labels, scores)),
        "accuracy": float(np.mean((scores >= 0.5) == labels)),
        "rejection_at_30": rejection_at(labels, scores, 0.3),
    }
