"""Challenge scores: the same figures as keraslab.metrics, and a stratified public/private split."""

from __future__ import annotations

import numpy as np
import pytest

from keraslab.challenge.db import Submission
from keraslab.challenge.leaderboard import figures
from keraslab.challenge.scoring import (
    SHOWN_DECIMALS,
    SNAP_JETS,
    draw_public_mask,
    public_and_private,
    score,
    shown_figure,
    snap_tolerances,
)
from keraslab.metrics import classifier_summary


@pytest.mark.parametrize("decimals", [None, 2])  # continuous scores, and many tied ones
def test_score_agrees_with_classifier_summary(decimals):
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 2, 5000)
    scores = 0.5 + 0.2 * (labels - 0.5) + 0.25 * rng.normal(size=5000)
    if decimals is not None:
        scores = np.round(scores, decimals)
    expected = classifier_summary(labels, scores)
    got = score(labels, scores)
    assert got.auc == pytest.approx(expected["auc"], abs=1e-12)
    assert got.accuracy == pytest.approx(expected["accuracy"], abs=1e-12)
    assert got.rejection_at_30 == pytest.approx(expected["rejection_at_30"], rel=1e-12)
    assert 1.0 < got.rejection_at_30 < np.inf


def test_perfect_and_inverted_taggers():
    labels = np.array([0, 0, 0, 1, 1, 1])
    perfect = score(labels, labels * 0.8 + 0.1)
    assert (perfect.auc, perfect.accuracy, perfect.rejection_at_30) == (1.0, 1.0, np.inf)
    inverted = score(labels, 1 - labels)
    assert (inverted.auc, inverted.accuracy) == (0.0, 0.0)


def test_public_mask_is_stratified_and_random():
    labels = np.r_[np.zeros(900, int), np.ones(100, int)]
    first = draw_public_mask(labels, 0.3, np.random.default_rng(1))
    second = draw_public_mask(labels, 0.3, np.random.default_rng(2))
    assert first.sum() == 300 and labels[first].sum() == 30  # 30 % of each class
    assert not np.array_equal(first, second)


def test_public_and_private_scores_use_disjoint_jets():
    labels = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    public_mask = np.array([True, True, True, True, False, False, False, False])
    scores = np.array([0.1, 0.9, 0.2, 0.8, 0.9, 0.1, 0.8, 0.2])  # right on public, wrong on private
    public, private = public_and_private(labels, public_mask, scores)
    assert public.auc == 1.0 and private.auc == 0.0


N_PUBLIC = 50_000  # the public half of a 100k-jet challenge
N_MOVES = 200


def served_public(scores: np.ndarray, labels: np.ndarray, earlier: list[Submission]) -> tuple[Submission, dict]:
    """What the server shows for ``scores`` before the close, after ``earlier`` submissions: the scoring code itself."""
    public = score(labels, scores)
    auc_tolerance, accuracy_tolerance = snap_tolerances(labels)
    submission = Submission(
        public_auc=public.auc,
        public_accuracy=public.accuracy,
        public_rejection=public.rejection_at_30,
        public_auc_shown=shown_figure(public.auc, [(s.public_auc, s.public_auc_shown) for s in earlier], auc_tolerance),
        public_accuracy_shown=shown_figure(
            public.accuracy, [(s.public_accuracy, s.public_accuracy_shown) for s in earlier], accuracy_tolerance
        ),
    )
    return submission, figures(submission, "public", closed=False)


def base_next_to_a_rounding_boundary(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A good tagger whose public AUC lies just above a rounding boundary (x.xxx5): the attacker's best base.

    Moving one background jet to the top lowers the AUC by up to 1/n_signal, across the
    boundary, so plain rounding would show the move.
    """
    noise = rng.normal(size=len(labels))

    def tagger(width: float) -> np.ndarray:
        return labels + width * noise

    low, high = 0.3, 0.6  # noise widths around AUC 0.97
    target = None
    for _ in range(40):  # bisection on the noise width: the AUC falls as the width grows
        width = (low + high) / 2
        auc = score(labels, tagger(width)).auc
        if target is None:
            target = np.floor(auc * 1000) / 1000 + 0.0005 + 2e-6  # 2e-6 above the boundary of that bin
        if abs(auc - target) < 1e-6:
            break
        low, high = (width, high) if auc > target else (low, width)
    assert abs(auc - target) < 1e-6
    return tagger(width)


def test_moving_single_jets_changes_no_served_figure():
    """200 single-jet moves from the worst possible base: the served public figures never change.

    The same moves under plain rounding to 3 decimals are seen: the test can tell a leak.
    """
    rng = np.random.default_rng(14)
    labels = (rng.random(N_PUBLIC) < 0.5).astype(np.int8)
    base = base_next_to_a_rounding_boundary(labels, rng)
    base_submission, base_served = served_public(base, labels, earlier=[])
    assert set(base_served) == {"auc", "accuracy"}  # no 1/eps_B before the close
    changed, seen_by_plain_rounding = 0, 0
    for move, jet in enumerate(rng.choice(N_PUBLIC, N_MOVES, replace=False)):
        moved = base.copy()
        moved[jet] = base.max() + 1 if move % 2 == 0 else base.min() - 1  # to the top, or to the bottom
        moved_submission, moved_served = served_public(moved, labels, earlier=[base_submission])
        changed += moved_served != base_served
        seen_by_plain_rounding += round(moved_submission.public_auc, 3) != round(base_submission.public_auc, 3)
    assert changed == 0
    assert seen_by_plain_rounding > 10  # what the snapping hides


def test_a_real_improvement_shows():
    rng = np.random.default_rng(3)
    labels = (rng.random(N_PUBLIC) < 0.5).astype(np.int8)
    noise = rng.normal(size=N_PUBLIC)
    first, first_served = served_public(labels + 0.6 * noise, labels, earlier=[])
    _, better_served = served_public(labels + 0.5 * noise, labels, earlier=[first])
    assert better_served["auc"] > first_served["auc"]


def test_three_decimals_are_below_the_statistical_uncertainty_of_50k_jets():
    """Hanley & McNeil (Radiology 143, 1982, eq. 2): the AUC's standard error on 25k + 25k jets, at AUC 0.98."""
    auc, n_signal, n_background = 0.98, N_PUBLIC // 2, N_PUBLIC // 2
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (auc * (1 - auc) + (n_signal - 1) * (q1 - auc**2) + (n_background - 1) * (q2 - auc**2)) / (n_signal * n_background)
    assert 0.5e-3 < np.sqrt(variance)  # the third decimal is already noise; a fourth would only leak
    auc_tolerance, accuracy_tolerance = snap_tolerances(np.r_[np.zeros(n_background), np.ones(n_signal)])
    assert auc_tolerance == SNAP_JETS / n_signal and auc_tolerance < 10 ** -SHOWN_DECIMALS / 2
    assert accuracy_tolerance == SNAP_JETS / N_PUBLIC
