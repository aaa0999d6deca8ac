"""The AUC with its statistical uncertainty, and the difference of two taggers' AUCs on the same jets.

Uncertainties follow DeLong, DeLong and Clarke-Pearson, Biometrics 44 (1988) 837:
the AUC is the mean of per-jet "placement" values (for a top jet, the fraction of
QCD jets it outscores; for a QCD jet, the fraction of top jets that outscore it,
ties counting one half), so its variance is that of two sample means. Two taggers
scored on the *same* jets have correlated AUCs; the variance of their difference
comes from the per-jet differences of placements, which is why taggers must be
compared on the same test jets: the shared fluctuations then cancel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Measurement:
    """A measured number and its standard (one-sigma) statistical uncertainty."""

    value: float
    uncertainty: float

    @property
    def significance(self) -> float:
        """value / uncertainty: how many standard deviations the value lies from zero."""
        if self.uncertainty > 0:
            return self.value / self.uncertainty
        return math.copysign(math.inf, self.value) if self.value else 0.0

    def __str__(self) -> str:
        return f"{self.value:.3f} ± {self.uncertainty:.3f}"


def _placements(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per top jet: fraction of QCD jets scored lower; per QCD jet: fraction of top jets scored higher."""
    labels = np.asarray(labels).astype(int)
    scores = np.asarray(scores, dtype=np.float64).ravel()
    if scores.shape != labels.shape:
        raise ValueError(f"{len(scores)} scores for {len(labels)} jets; give one score per jet, in the same order")
    top, qcd = scores[labels == 1], scores[labels == 0]
    if len(top) < 2 or len(qcd) < 2:
        raise ValueError(f"{len(top)} top and {len(qcd)} QCD jets; the AUC's uncertainty needs at least 2 of each")
    qcd_sorted, top_sorted = np.sort(qcd), np.sort(top)
    # searchsorted left + right, halved: the number of lower scores with ties counted one half
    top_placement = (np.searchsorted(qcd_sorted, top, "left") + np.searchsorted(qcd_sorted, top, "right")) / (2 * len(qcd))
    qcd_placement = 1.0 - (np.searchsorted(top_sorted, qcd, "left") + np.searchsorted(top_sorted, qcd, "right")) / (2 * len(top))
    return top_placement, qcd_placement


def _delong(top_placement: np.ndarray, qcd_placement: np.ndarray) -> Measurement:
    variance = np.var(top_placement, ddof=1) / len(top_placement) + np.var(qcd_placement, ddof=1) / len(qcd_placement)
    return Measurement(float(np.mean(top_placement)), float(np.sqrt(variance)))


def auc_with_uncertainty(labels: np.ndarray, scores: np.ndarray) -> Measurement:
    """The AUC of ``scores`` (higher = more top-like) for 0/1 ``labels``, with its DeLong uncertainty."""
    return _delong(*_placements(labels, scores))


def auc_difference(labels: np.ndarray, scores: np.ndarray, reference_scores: np.ndarray) -> Measurement:
    """AUC(scores) − AUC(reference_scores) on the same jets, with the uncertainty of the difference."""
    top, qcd = _placements(labels, scores)
    reference_top, reference_qcd = _placements(labels, reference_scores)
    return _delong(top - reference_top, qcd - reference_qcd)
