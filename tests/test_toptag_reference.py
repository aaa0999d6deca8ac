"""Reference checks (validate --reference) and 1/eps_B with its uncertainty: the machinery, on the tiny fixture.

The physics targets need >= 20 000 jets per class; here only that each row is
measured, carries an uncertainty, and fails when it should.
"""

from __future__ import annotations

import json

import numpy as np

from cli_runner import run_cli
from keraslab.metrics import rejection_with_uncertainty
from keraslab.toptag import dataset as ds
from keraslab.toptag import reference as ref
from keraslab.toptag.validation import format_reference_table, reference_checks


def test_every_reference_figure_is_measured_with_an_uncertainty(tiny_jets):
    features = ds.read_features(tiny_jets / "train_features.h5")
    rows = reference_checks(features)
    assert [row["key"] for row in rows] == [figure.key for figure in ref.FIGURES]
    for row in rows:
        assert np.isfinite(row["measured"]) and row["uncertainty"] > 0, row
        assert row["passed"] == (abs(row["measured"] - row["target"]) <= row["tolerance"])
        assert row["source"]
    by_key = {row["key"]: row for row in rows}
    qcd = features["mass"][features[ds.LABEL_COLUMN] == 0].to_numpy()
    heavy = np.mean(qcd > ref.QCD_HEAVY_MASS)
    assert by_key["qcd_heavy"]["measured"] == heavy
    assert np.isclose(by_key["qcd_heavy"]["uncertainty"], np.sqrt(heavy * (1 - heavy) / len(qcd)))
    assert "QCD jets pass" in by_key["mass_rejection"]["method"]
    table = format_reference_table(rows)
    assert len(table) == len(ref.FIGURES) + 1 and all(("PASS" in line) != ("FAIL" in line) for line in table[1:])


def test_a_shifted_mass_fails_the_top_mass_checks(tiny_jets):
    features = ds.read_features(tiny_jets / "train_features.h5")
    is_top = features[ds.LABEL_COLUMN] == 1
    median = np.median(features["mass"][is_top])
    # put the top median exactly on the target, then 10 GeV above it
    on_target = features.assign(mass=features["mass"] + (174.0 - median))
    shifted = features.assign(mass=features["mass"] + (184.0 - median))
    assert {row["key"]: row for row in reference_checks(on_target)}["top_mass_p50"]["passed"]
    row = {row["key"]: row for row in reference_checks(shifted)}["top_mass_p50"]
    assert not row["passed"] and np.isclose(row["measured"], 184.0)


def test_validate_reference_prints_the_table_and_fails_with_exit_2(tiny_jets, tmp_path, capsys):
    code = run_cli("toptag", "validate", str(tiny_jets), "--reference", "--out", str(tmp_path / "plots"))
    out, err = capsys.readouterr()
    report = json.loads((tmp_path / "plots" / "validation.json").read_text())
    assert len(report["reference"]) == len(ref.FIGURES)
    assert all(row["name"] in out for row in report["reference"])
    failed = [row for row in report["checks"] + report["reference"] if not row["passed"]]
    assert code == (2 if failed else 0)
    if failed:
        assert err.strip().count("\n") == 0 and err.startswith("error: ")


def test_rejection_counts_the_background_that_passes():
    rng = np.random.default_rng(0)
    labels = np.r_[np.ones(4000), np.zeros(4000)]
    scores = np.r_[rng.normal(2.0, 1.0, 4000), rng.normal(0.0, 1.0, 4000)]
    rejection = rejection_with_uncertainty(labels, scores, 0.3)
    threshold = np.quantile(scores[:4000], 0.7)
    assert rejection.background_passing == np.sum(scores[4000:] >= threshold) and rejection.background_jets == 4000
    assert rejection.low < rejection.value < rejection.high
    # Poisson: the relative uncertainty of 1/eps_B is about 1/sqrt(passing)
    relative = rejection.uncertainty / rejection.value
    assert 0.6 < relative * np.sqrt(rejection.background_passing) < 1.6


def test_rejection_without_passing_background_is_infinite_with_infinite_uncertainty():
    labels = np.r_[np.ones(50), np.zeros(50)]
    scores = np.r_[np.linspace(1.0, 2.0, 50), np.linspace(0.0, 0.5, 50)]  # fully separated
    rejection = rejection_with_uncertainty(labels, scores, 0.3)
    assert rejection.value == rejection.uncertainty == np.inf and rejection.background_passing == 0
