"""ROC figures of merit in the physics convention."""

import math

import numpy as np
import pytest

from keraslab.metrics import classifier_summary, rejection_at, roc


def test_roc_is_signal_efficiency_then_background_efficiency():
    labels = np.array([0, 0, 1, 1])
    scores = np.array([0.1, 0.4, 0.35, 0.8])
    eps_s, eps_b = roc(labels, scores)
    assert eps_s[-1] == 1.0 and eps_b[-1] == 1.0
    assert np.all(np.diff(eps_s) >= 0)


def test_rejection_of_a_known_roc():
    # 10 signal and 10 background jets; the best 3 signal jets score above every
    # background jet but one, so at eps_S = 0.3 one background jet in 10 passes.
    signal = np.array([0.99, 0.98, 0.97] + [0.5] * 7)
    background = np.array([0.995] + [0.1] * 9)
    labels = np.r_[np.ones(10), np.zeros(10)]
    assert rejection_at(labels, np.r_[signal, background], 0.3) == pytest.approx(10.0)


def test_perfect_separation_has_infinite_rejection():
    labels = np.r_[np.ones(50), np.zeros(50)]
    scores = np.r_[np.full(50, 0.9), np.full(50, 0.1)]
    summary = classifier_summary(labels, scores)
    assert summary["auc"] == 1.0 and summary["accuracy"] == 1.0
    assert math.isinf(summary["rejection_at_30"])


def test_random_scores_give_auc_near_half_and_rejection_near_one_over_eps():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 200_000)
    scores = rng.random(200_000)
    summary = classifier_summary(labels, scores)
    assert summary["auc"] == pytest.approx(0.5, abs=0.01)
    assert summary["rejection_at_30"] == pytest.approx(1 / 0.3, rel=0.05)
