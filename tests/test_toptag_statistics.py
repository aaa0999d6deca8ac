"""The statistics of the tagger comparison: binomial intervals of 1/eps_B, the QCD jets that pass,
the AUC's uncertainty in every table and plot, and the refusal of small test samples (synthetic scores)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from keraslab import cli
from keraslab.metrics import (
    CONFIDENCE_LEVEL,
    classifier_summary,
    efficiency_interval,
    rejection_text,
    rejection_with_uncertainty,
    summary_text,
    summary_with_uncertainties,
)
from keraslab.toptag import comparison, dataset
from keraslab.toptag.catalog import CUT_BASELINE, NSUB_BASELINE
from keraslab.toptag.runs import TEST_SCORES


def synthetic(n_signal: int, n_background: int, separation: float = 3.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = np.r_[np.ones(n_signal, dtype=int), np.zeros(n_background, dtype=int)]
    return labels, np.r_[rng.normal(separation, 1.0, n_signal), rng.normal(0.0, 1.0, n_background)]


@pytest.mark.parametrize(("passing", "total"), [(0, 50), (1, 50), (4, 3600), (37, 1000), (50, 50)])
def test_efficiency_interval_is_scipys_clopper_pearson(passing, total):
    expected = stats.binomtest(passing, total).proportion_ci(confidence_level=CONFIDENCE_LEVEL, method="exact")
    low, high = efficiency_interval(passing, total)
    assert low == pytest.approx(expected.low, abs=1e-12) and high == pytest.approx(expected.high, abs=1e-12)


def test_rejection_interval_is_the_inverted_interval_of_the_passing_background():
    labels, scores = synthetic(4000, 4000, separation=2.0)
    rejection = rejection_with_uncertainty(labels, scores, 0.3)
    threshold = np.quantile(scores[labels == 1], 0.7)
    passing = int(np.sum(scores[labels == 0] >= threshold))
    assert rejection.background_passing == passing and rejection.background_jets == 4000
    # the interval of the interpolated eps_B as a number of jets, which is the count up to a fraction of a jet
    assert 4000 / rejection.value == pytest.approx(passing, abs=1.0)
    eps_low, eps_high = efficiency_interval(4000 / rejection.value, 4000)
    assert (rejection.low, rejection.high) == pytest.approx((1 / eps_high, 1 / eps_low))
    assert rejection.low < rejection.value < rejection.high


def test_tied_scores_of_a_cut_keep_the_value_inside_its_interval():
    # a cut: every jet inside scores 1; 60 % of the top and 2 % of the 5000 QCD jets pass it
    labels = np.r_[np.ones(5000, dtype=int), np.zeros(5000, dtype=int)]
    scores = np.r_[np.repeat([1.0, 0.0], [3000, 2000]), np.repeat([1.0, 0.0], [100, 4900])]
    for efficiency in (0.3, 0.5):
        rejection = rejection_with_uncertainty(labels, scores, efficiency)
        # the ROC is straight from (0, 0) to the cut's (0.6, 0.02): eps_B = 0.02 * efficiency / 0.6
        assert rejection.value == pytest.approx(0.6 / (0.02 * efficiency))
        assert rejection.background_passing == 100  # all jets tied at the threshold pass it
        assert rejection.low < rejection.value < rejection.high


@pytest.mark.parametrize(("n_background", "separation"), [(300, 2.0), (3000, 2.5), (20_000, 3.0), (60_000, 3.5)])
def test_the_interval_holds_the_value_from_many_to_few_passing_jets(n_background, separation):
    labels, scores = synthetic(n_background, n_background, separation, seed=n_background)
    for efficiency in (0.3, 0.5):
        rejection = rejection_with_uncertainty(labels, scores, efficiency)
        if rejection.background_passing:
            assert rejection.low <= rejection.value <= rejection.high, rejection


def test_the_interval_covers_the_true_rejection_about_as_often_as_its_confidence_level():
    # signal scores fixed so that the threshold at eps_S = 0.3 is exactly where 1 % of the QCD ~ N(0, 1)
    # passes: 1/eps_B = 100, about 20 of 2000 QCD jets pass, resampled each time
    signal = np.linspace(0.0, stats.norm.isf(0.01) / 0.7, 1001)
    true_rejection = 100.0
    rng = np.random.default_rng(3)
    covered = []
    for _ in range(200):
        labels = np.r_[np.ones(len(signal)), np.zeros(2000)]
        rejection = rejection_with_uncertainty(labels, np.r_[signal, rng.normal(0.0, 1.0, 2000)], 0.3)
        covered.append(rejection.low <= true_rejection <= rejection.high)
    # Clopper-Pearson is conservative: about the confidence level or a little more (200 tries: ±0.03)
    assert CONFIDENCE_LEVEL - 0.07 < np.mean(covered) < 0.85


def test_no_passing_background_gives_a_lower_bound_only():
    labels, scores = synthetic(50, 50, separation=20.0)
    rejection = rejection_with_uncertainty(labels, scores, 0.3)
    assert rejection.background_passing == 0 and math.isinf(rejection.high) and math.isinf(rejection.uncertainty)
    # nothing passes among 50: eps_B below 1 - 0.1587^(1/50) at 68 %, so 1/eps_B above about 27
    assert rejection.low == pytest.approx(1 / (1 - ((1 - CONFIDENCE_LEVEL) / 2) ** (1 / 50)))
    assert str(rejection).startswith(f"> {rejection.low:.1f} (0 of 50")


def test_rejection_text():
    assert rejection_text(900.0, 550.0, 1500.0) == "900 +600/-350"
    assert rejection_text(47.25, 45.0, 49.5) == "47.2 +2.2/-2.2"
    assert rejection_text(math.inf, 1630.0, math.inf) == "> 1630"


def test_summary_adds_uncertainties_to_the_plain_summary_at_both_working_points():
    labels, scores = synthetic(5000, 5000, separation=2.5)
    summary = summary_with_uncertainties(labels, scores)
    assert {key: summary[key] for key in classifier_summary(labels, scores)} == classifier_summary(labels, scores)
    assert 0 < summary["auc_uncertainty"] < 0.01
    assert summary["n_test_background"] == 5000
    for at, efficiency in (("30", 0.3), ("50", 0.5)):
        rejection = rejection_with_uncertainty(labels, scores, efficiency)
        assert summary[f"rejection_at_{at}"] == rejection.value
        assert summary[f"rejection_at_{at}_interval"] == [rejection.low, rejection.high]
        assert summary[f"background_passing_at_{at}"] == rejection.background_passing
    assert summary["rejection_at_50"] < summary["rejection_at_30"]
    json.loads(json.dumps(summary))  # what metrics.json holds
    text = summary_text(summary)
    assert f"AUC {summary['auc']:.4f} ± {summary['auc_uncertainty']:.4f}" in text
    assert f"({summary['background_passing_at_50']} of 5000 background pass)" in text


# ---------------------------------------------------------------- the comparison


def fake_comparison(tmp_path: Path, n_background: int) -> tuple[Path, Path]:
    """A jets folder whose test sample holds n_background QCD jets, and a compare folder with the finished
    runs of both baselines and one network on it (no training: the scores are synthetic)."""
    data, out = tmp_path / "jets", tmp_path / "compare"
    data.mkdir()
    labels, baseline_scores = synthetic(n_background, n_background, separation=2.0, seed=1)
    _, network_scores = synthetic(n_background, n_background, separation=3.0, seed=2)
    for sample in dataset.SPLITS:
        dataset.sample_path(data, sample).touch()  # compare checks they exist; the runs below are finished
    features = pd.DataFrame({column: np.zeros(len(labels)) for column in dataset.FEATURE_COLUMNS})
    features[dataset.LABEL_COLUMN] = labels
    features.to_hdf(dataset.sample_path(data, "test", "features"), key=dataset.HDF_KEY)
    for name, scores, extra in ((CUT_BASELINE, baseline_scores, {"n_train_scan": 1000}),
                                (NSUB_BASELINE, baseline_scores, {"n_train": 1000}),
                                ("toptag-cnn", network_scores, {"params": 6538, "n_train": 1000})):
        run = out / name
        run.mkdir(parents=True)
        # metrics.json as written before uncertainties were recorded: compare adds them from the scores
        (run / "metrics.json").write_text(json.dumps({**classifier_summary(labels, scores), **extra}))
        if name in comparison.BASELINES:
            np.save(run / "scores.npy", scores)
        else:
            np.savez(run / TEST_SCORES, labels=labels.astype(np.int8), scores=scores.astype(np.float32))
    return data, out


def run_cli(*args, capsys) -> tuple[int, str, str]:
    try:
        cli.main([str(a) for a in args])
        code = 0
    except SystemExit as exit_info:
        code = exit_info.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_compare_refuses_a_small_test_sample_in_one_line(tmp_path, capsys):
    data, out = fake_comparison(tmp_path, 400)
    code, _, err = run_cli("toptag", "compare", "--data", data, "--out", out, "--models", "toptag-cnn", capsys=capsys)
    assert code == 2 and "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    for needle in ("400 QCD jets", f"{comparison.MIN_TEST_BACKGROUND}", "keraslab toptag generate --jets", "--allow-small"):
        assert needle in lines[0]
    assert not (out / "comparison.md").exists()

    code, _, err = run_cli("toptag", "compare", "--data", data, "--out", out, "--models", "toptag-cnn",
                           "--eval-jets", 100, capsys=capsys)
    assert code == 2 and "--eval-jets" in err and "QCD jets" in err


def test_compare_with_allow_small_marks_the_table_and_plot_and_gives_every_uncertainty(tmp_path, capsys):
    data, out = fake_comparison(tmp_path, 400)
    code, printed, err = run_cli("toptag", "compare", "--data", data, "--out", out, "--models", "toptag-cnn",
                                 "--allow-small", capsys=capsys)
    assert code == 0, err
    assert "reusing" in printed
    table = (out / "comparison.md").read_text()
    assert table.startswith(f"**{comparison.SMALL_SAMPLE}: the test sample holds 400 QCD jets")
    csv = pd.read_csv(out / "comparison.csv")
    assert list(csv.columns) == list(comparison.COLUMNS)
    labels, scores = comparison.test_curve(out / "toptag-cnn", data)
    expected = summary_with_uncertainties(labels, scores)
    cnn = csv.set_index("tagger").loc["toptag-cnn"]
    assert cnn["auc_uncertainty"] == pytest.approx(expected["auc_uncertainty"])
    for at in ("30", "50"):
        assert [cnn[f"rejection_at_{at}_low"], cnn[f"rejection_at_{at}_high"]] == pytest.approx(
            expected[f"rejection_at_{at}_interval"])
        assert cnn[f"background_passing_at_{at}"] == expected[f"background_passing_at_{at}"]
    row = next(line for line in table.splitlines() if line.startswith("| toptag-cnn |"))
    assert f"{expected['auc']:.4f} ± {expected['auc_uncertainty']:.4f}" in row
    assert rejection_text(expected["rejection_at_50"], *expected["rejection_at_50_interval"]) in row
    assert f"{expected['background_passing_at_30']} of 400" in row
    assert "ParticleNet-Lite | 0.9844 | 1262 | 325" in table and "DIFFERENT DATA" in table
    assert (out / "roc.png").stat().st_size > 10_000


def test_a_large_test_sample_is_compared_without_the_mark(tmp_path, capsys):
    data, out = fake_comparison(tmp_path, comparison.MIN_TEST_BACKGROUND)
    code, _, err = run_cli("toptag", "compare", "--data", data, "--out", out, "--models", "toptag-cnn", capsys=capsys)
    assert code == 0, err
    table = (out / "comparison.md").read_text()
    assert comparison.SMALL_SAMPLE not in table and f"of {comparison.MIN_TEST_BACKGROUND}" in table


def test_the_help_names_the_threshold(capsys):
    code, printed, _ = run_cli("toptag", "compare", "--help", capsys=capsys)
    assert code == 0 and "--allow-small" in printed
    assert f"{comparison.MIN_TEST_BACKGROUND:,}" in " ".join(printed.split())
