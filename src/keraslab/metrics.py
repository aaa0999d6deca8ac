"""Classifier figures of merit in the physics convention, on scikit-learn's ROC.

Signal efficiency eps_S is the true-positive rate, background efficiency eps_B
the false-positive rate; taggers are compared by the background rejection
1/eps_B at a fixed eps_S (0.3 in the top-tagging reference paper).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

BOOTSTRAP_RESAMPLES = 200


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


@dataclass(frozen=True)
class Rejection:
    """1/eps_B at a signal efficiency, with its bootstrap interval and the background jets behind it.

    low, high: the 16th and 84th percentiles of 1/eps_B over bootstrap resamples
    (infinite where no background passes); background_passing: how many of the
    background_jets score at or above the threshold that keeps that signal efficiency.
    """

    value: float
    low: float
    high: float
    background_passing: int
    background_jets: int

    @property
    def uncertainty(self) -> float:
        """Half the 16-84 % bootstrap interval: the one-sigma statistical uncertainty where it is symmetric;
        infinite when the interval reaches infinity (too few background jets pass)."""
        return 0.5 * (self.high - self.low) if np.isfinite(self.high) else float("inf")

    def __str__(self) -> str:
        return f"{self.value:.1f} ± {self.uncertainty:.1f} ({self.background_passing} of {self.background_jets} background pass)"


def rejection_with_uncertainty(
    labels: np.ndarray, scores: np.ndarray, signal_efficiency: float = 0.3, seed: int = 0
) -> Rejection:
    """rejection_at with a bootstrap interval (jets resampled within each class, BOOTSTRAP_RESAMPLES times)."""
    labels = np.asarray(labels).astype(int)
    scores = np.asarray(scores, dtype=float)
    signal, background = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    rng = np.random.default_rng(seed)
    resampled = [
        rejection_at(labels[chosen], scores[chosen], signal_efficiency)
        for chosen in (
            np.concatenate([rng.choice(signal, len(signal)), rng.choice(background, len(background))])
            for _ in range(BOOTSTRAP_RESAMPLES)
        )
    ]
    low, high = np.percentile(resampled, [16, 84], method="nearest")
    threshold = np.quantile(scores[signal], 1.0 - signal_efficiency)
    return Rejection(
        value=rejection_at(labels, scores, signal_efficiency),
        low=float(low),
        high=float(high),
        background_passing=int(np.sum(scores[background] >= threshold)),
        background_jets=len(background),
    )


def classifier_summary(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """AUC, accuracy at a 0.5 threshold and 1/eps_B at eps_S = 0.3."""
    labels = np.asarray(labels).astype(int)
    scores = np.asarray(scores, dtype=float)
    return {
        "auc": float(roc_auc_score(labels, scores)),
        "accuracy": float(np.mean((scores >= 0.5) == labels)),
        "rejection_at_30": rejection_at(labels, scores, 0.3),
    }


def summary_with_uncertainties(labels: np.ndarray, scores: np.ndarray) -> dict[str, float | int]:
    """classifier_summary plus the statistics to judge it: the AUC's DeLong uncertainty, the 16-84 %
    bootstrap interval of 1/eps_B at eps_S = 0.3 and how many background jets pass there."""
    from keraslab.toptag.auc import auc_with_uncertainty

    rejection = rejection_with_uncertainty(labels, scores, 0.3)
    return {
        **classifier_summary(labels, scores),
        "auc_uncertainty": auc_with_uncertainty(labels, scores).uncertainty,
        "rejection_at_30_interval": [rejection.low, rejection.high],
        "background_passing_at_30": rejection.background_passing,
        "n_test_background": rejection.background_jets,
    }
