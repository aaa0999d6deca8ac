"""The AUC's DeLong uncertainty: the right value, and a spread that matches repeated experiments."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from keraslab.toptag.auc import auc_difference, auc_with_uncertainty


def experiment(rng, n_jets=400, separation=1.0):
    """Labels and two correlated taggers' scores: both see the same jet-by-jet noise, plus their own."""
    labels = rng.integers(0, 2, n_jets)
    shared = rng.normal(size=n_jets)
    better = separation * labels + shared + 0.5 * rng.normal(size=n_jets)
    worse = 0.7 * separation * labels + shared + 0.5 * rng.normal(size=n_jets)
    return labels, better, worse


def test_auc_equals_scikit_learn_with_ties():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 300)
    scores = np.round(rng.normal(size=300) + labels, 1)  # many ties
    assert auc_with_uncertainty(labels, scores).value == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


def test_uncertainties_match_the_spread_of_repeated_experiments():
    rng = np.random.default_rng(1)
    aucs, differences, sigmas, difference_sigmas = [], [], [], []
    for _ in range(300):
        labels, better, worse = experiment(rng)
        single, difference = auc_with_uncertainty(labels, better), auc_difference(labels, better, worse)
        aucs.append(single.value)
        sigmas.append(single.uncertainty)
        differences.append(difference.value)
        difference_sigmas.append(difference.uncertainty)
    # the standard deviation of 300 experiments is known to ~4 %: allow 15 %
    assert np.mean(sigmas) == pytest.approx(np.std(aucs), rel=0.15)
    assert np.mean(difference_sigmas) == pytest.approx(np.std(differences), rel=0.15)
    # the shared noise cancels in the paired difference: it is better known than either AUC
    assert np.mean(difference_sigmas) < np.mean(sigmas)


def test_difference_of_a_tagger_with_itself_is_exactly_zero():
    labels, better, _ = experiment(np.random.default_rng(2))
    difference = auc_difference(labels, better, better)
    assert (difference.value, difference.uncertainty, difference.significance) == (0.0, 0.0, 0.0)


def test_scores_of_other_jets_are_refused():
    labels, better, _ = experiment(np.random.default_rng(3))
    with pytest.raises(ValueError, match="one score per jet"):
        auc_difference(labels, better, better[:-1])
