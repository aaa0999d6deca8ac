"""Challenge scores: the same figures as keraslab.metrics, and a stratified public/private split."""

from __future__ import annotations

import numpy as np
import pytest

from keraslab.challenge.scoring import draw_public_mask, public_and_private, score
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
