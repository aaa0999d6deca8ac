"""Classifier figures of merit in the physics convention, on scikit-learn's ROC.

Signal efficiency eps_S is the true-positive rate, background efficiency eps_B
the false-positive rate; taggers are compared by the background rejection
1/eps_B at a fixed eps_S (0.3 in the top-tagging reference paper).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from sklearn.metrics import roc_auc_score, roc_curve

# Intervals are central and cover one Gaussian standard deviation, like the AUC's DeLong uncertainty.
CONFIDENCE_LEVEL = 0.6827
# Working points of the rejection: 0.3 as in the top-tagging reference paper, 0.5 where the taggers' curves spread.
SIGNAL_EFFICIENCIES = (0.3, 0.5)


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


def efficiency_interval(passing, total) -> tuple[np.ndarray, np.ndarray]:
    """Clopper-Pearson interval of an efficiency ``passing / total`` at CONFIDENCE_LEVEL, elementwise.

    The same interval as ``scipy.stats.binomtest(passing, total).proportion_ci(method="exact")``, written with
    the beta quantiles so that a whole ROC curve is done at once; 0 and 1 are the bounds where nothing or
    everything passes.
    """
    passing, total = np.asarray(passing, dtype=float), np.asarray(total, dtype=float)
    tail = (1.0 - CONFIDENCE_LEVEL) / 2
    with np.errstate(invalid="ignore"):  # beta(0, .) and beta(., 0) are undefined: the bounds 0 and 1 apply
        low = np.where(passing > 0, stats.beta.ppf(tail, passing, total - passing + 1), 0.0)
        high = np.where(passing < total, stats.beta.ppf(1 - tail, passing + 1, total - passing), 1.0)
    return low, high


def rejection_text(value: float, low: float, high: float) -> str:
    """1/eps_B with its asymmetric interval, e.g. "900 +600/-350" (whole numbers from 100 on, else one
    decimal); "> 1150" when no background passes (only a lower bound is known then)."""
    shown = low if not np.isfinite(high) else value
    decimals = 0 if abs(shown) >= 100 else 1
    if not np.isfinite(high):
        return f"> {low:.{decimals}f}"
    return f"{value:.{decimals}f} +{max(high - value, 0.0):.{decimals}f}/-{max(value - low, 0.0):.{decimals}f}"


@dataclass(frozen=True)
class Rejection:
    """1/eps_B at a signal efficiency, with its binomial interval and the background jets behind it.

    background_passing: how many of the background_jets score at or above the threshold that keeps the
    signal efficiency; low, high: the Clopper-Pearson interval (CONFIDENCE_LEVEL) of eps_B = passing /
    background_jets, inverted (high is infinite where no background passes).
    """

    value: float
    low: float
    high: float
    background_passing: int
    background_jets: int

    @property
    def uncertainty(self) -> float:
        """Half the interval: the one-sigma statistical uncertainty where it is nearly symmetric (many jets
        pass); infinite when the interval reaches infinity (no background jet passes)."""
        return 0.5 * (self.high - self.low) if np.isfinite(self.high) else float("inf")

    def __str__(self) -> str:
        return (f"{rejection_text(self.value, self.low, self.high)} "
                f"({self.background_passing} of {self.background_jets} background pass)")


def rejection_with_uncertainty(
    labels: np.ndarray, scores: np.ndarray, signal_efficiency: float = 0.3
) -> Rejection:
    """rejection_at with the binomial interval of its eps_B, and the background jets that pass its threshold.

    The interval is efficiency_interval of eps_B * background_jets (the interpolated eps_B as a number
    of jets): the counted background_passing up to a fraction of a jet, except where scores tie (a cut
    gives every passing jet the same score), where the count takes all the tied jets but the ROC
    interpolates between them; so the interval always holds the value.
    """
    labels = np.asarray(labels).astype(int)
    scores = np.asarray(scores, dtype=float)
    background = scores[labels == 0]
    threshold = np.quantile(scores[labels == 1], 1.0 - signal_efficiency)
    value = rejection_at(labels, scores, signal_efficiency)
    eps_low, eps_high = efficiency_interval(len(background) / value, len(background))
    return Rejection(
        value=value,
        low=float(1.0 / eps_high),
        high=float(1.0 / eps_low) if eps_low > 0 else float("inf"),
        background_passing=int(np.sum(background >= threshold)),
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


def summary_with_uncertainties(labels: np.ndarray, scores: np.ndarray) -> dict[str, float | int | list[float]]:
    """classifier_summary plus the statistics to judge it (the metrics.json of every tagger's run):
    the AUC's DeLong uncertainty and, at each of SIGNAL_EFFICIENCIES (key suffix 30, 50), 1/eps_B with
    its binomial interval and how many of the n_test_background jets pass."""
    from keraslab.toptag.auc import auc_with_uncertainty

    summary = {**classifier_summary(labels, scores),
               "auc_uncertainty": auc_with_uncertainty(labels, scores).uncertainty}
    for signal_efficiency in SIGNAL_EFFICIENCIES:
        rejection = rejection_with_uncertainty(labels, scores, signal_efficiency)
        suffix = f"{round(100 * signal_efficiency)}"
        summary |= {
            f"rejection_at_{suffix}": rejection.value,
            f"rejection_at_{suffix}_interval": [rejection.low, rejection.high],
            f"background_passing_at_{suffix}": rejection.background_passing,
            "n_test_background": rejection.background_jets,
        }
    return summary


def summary_text(summary: dict) -> str:
    """One line of a summary_with_uncertainties: the AUC and each rejection with their uncertainties."""
    parts = [f"AUC {summary['auc']:.4f} ± {summary['auc_uncertainty']:.4f}"]
    for signal_efficiency in SIGNAL_EFFICIENCIES:
        suffix = f"{round(100 * signal_efficiency)}"
        parts.append(f"1/eps_B at eps_S = {signal_efficiency}: "
                     f"{rejection_text(summary[f'rejection_at_{suffix}'], *summary[f'rejection_at_{suffix}_interval'])}"
                     f" ({summary[f'background_passing_at_{suffix}']} of {summary['n_test_background']} background pass)")
    return ", ".join(parts)
