"""Scoring a submission against the hidden labels, on the public and the private split.

The figures are those of :func:`keraslab.metrics.classifier_summary` (AUC, accuracy
at a 0.5 threshold, 1/eps_B at eps_S = 0.3) and a test checks they agree to
1e-12. They are recomputed here from a single sort because the scikit-learn path
takes about 80 ms for 100k jets on the class server (``roc_auc_score`` and
``roc_curve`` each re-validate the inputs, infer the target type with
``np.unique`` and sort the scores again), and every upload is scored twice
(public and private) while the team waits; one ``argsort`` per split brings a
100k-jet submission to a few milliseconds (``benchmarks/challenge_load.py --scoring``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SIGNAL_EFFICIENCY = 0.3
"""eps_S at which the background rejection 1/eps_B is quoted (top-tagging reference)."""


@dataclass(frozen=True)
class Score:
    """Figures of merit of one submission on one split of the jets."""

    auc: float  # area under the ROC curve (main ranking figure, higher is better)
    accuracy: float  # fraction of jets right at a 0.5 threshold
    rejection_at_30: float  # 1/eps_B at eps_S = 0.3; inf when no background passes


def score(labels: np.ndarray, scores: np.ndarray) -> Score:
    """Score ``scores`` (any real numbers, higher = more top-like) against 0/1 ``labels``.

    Both classes must be present in ``labels``.
    """
    labels = np.asarray(labels, dtype=np.int64)
    scores = np.asarray(scores, dtype=np.float64)
    n_signal = int(labels.sum())
    n_background = len(labels) - n_signal
    order = np.argsort(scores)[::-1]  # descending; ties are grouped below, so stability does not matter
    sorted_scores = scores[order]
    # one ROC point per distinct threshold, as scikit-learn's roc_curve
    last_of_each_threshold = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(scores) - 1]
    true_positives = np.cumsum(labels[order])[last_of_each_threshold]
    false_positives = last_of_each_threshold + 1 - true_positives
    eps_s = np.r_[0.0, true_positives / n_signal]
    eps_b = np.r_[0.0, false_positives / n_background]
    eps_b_at = float(np.interp(SIGNAL_EFFICIENCY, eps_s, eps_b))
    return Score(
        auc=float(np.trapezoid(eps_s, eps_b)),
        accuracy=float(np.mean((scores >= 0.5) == labels)),
        rejection_at_30=float("inf") if eps_b_at <= 0 else 1.0 / eps_b_at,
    )


def public_and_private(labels: np.ndarray, public_mask: np.ndarray, scores: np.ndarray) -> tuple[Score, Score]:
    """Scores on the public jets (shown at once) and on the private ones (shown after the close)."""
    return score(labels[public_mask], scores[public_mask]), score(labels[~public_mask], scores[~public_mask])


def draw_public_mask(labels: np.ndarray, public_fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of the public jets: ``public_fraction`` of each class, drawn at random.

    Stratifying by class keeps both classes in both splits, so both AUCs exist.
    """
    mask = np.zeros(len(labels), dtype=bool)
    for value in (0, 1):
        indices = np.flatnonzero(labels == value)
        n_public = int(round(public_fraction * len(indices)))
        mask[rng.choice(indices, size=n_public, replace=False)] = True
    return mask


# What teams see before the close. Moving one jet changes the public AUC by at most
# 1/min(n_signal, n_background) and the accuracy by 1/n: 4e-5 and 2e-5 for 50k public
# jets, far below the 1e-3 of three decimals. Rounding alone still leaks: a submission
# whose AUC lies within 4e-5 of a rounding boundary shows the move, and an attacker can
# aim at a boundary. So a figure within SNAP_JETS single-jet moves of an earlier
# submission's (any team's) is shown as that submission's: a change of a few jets can
# never show. The rejection 1/eps_B at eps_S = 0.3 is hidden until the close: one
# background jet above the threshold moves it by about 4 % at 1/eps_B ~ 1000, which no
# useful rounding hides (docs/challenge.md, "What the scores can leak").
SHOWN_DECIMALS = 3
SNAP_JETS = 4


def snap_tolerances(labels: np.ndarray) -> tuple[float, float]:
    """(AUC, accuracy) differences below which a new public figure shows an earlier submission's."""
    n_signal = int(np.count_nonzero(labels))
    n_background = len(labels) - n_signal
    return SNAP_JETS / min(n_signal, n_background), SNAP_JETS / len(labels)


def shown_figure(exact: float, earlier: list[tuple[float, float]], tolerance: float) -> float:
    """The figure served before the close for ``exact``.

    ``earlier``: (exact, shown) of earlier submissions, oldest first; the first within
    ``tolerance`` gives its shown value, else ``exact`` is rounded to SHOWN_DECIMALS.
    """
    for value, shown in earlier:
        if abs(value - exact) <= tolerance:
            return shown
    return round(exact, SHOWN_DECIMALS)
