"""The detector model's numbers against Delphes' ATLAS card (cards/delphes_card_ATLAS.tcl, commit 0ee14ba7).

Each expected value below is computed from the card's formula written out
here, not taken from keraslab.toptag.detector, so a drifting number fails.
"""

from __future__ import annotations

import numpy as np
import pytest

from keraslab.toptag import detector


@pytest.mark.parametrize(
    ("kind", "bands"),
    [
        # ChargedHadronMomentumSmearing, ElectronMomentumSmearing, MuonMomentumSmearing: (constant, per GeV) per |eta| band
        ("hadron", ((0.06, 1.3e-3), (0.10, 1.7e-3), (0.25, 3.1e-3))),
        ("electron", ((0.03, 1.3e-3), (0.05, 1.7e-3), (0.15, 3.1e-3))),
        ("muon", ((0.01, 1.0e-4), (0.015, 1.5e-4), (0.025, 3.5e-4))),
    ],
)
def test_track_resolution_is_the_cards_formula_per_eta_band(kind, bands):
    pt = np.array([0.05, 5.0, 50.0, 5.0, 50.0, 5.0, 50.0, 50.0, 50.0])
    abs_eta = np.array([0.0, 0.5, 0.2, 1.5, 1.0, 2.5, 2.0, 2.51, 4.0])  # upper edges are inclusive
    expected = [0.0]  # (pt > 0.1) in the formula
    for (constant, per_gev), in_band in zip(bands, ((5.0, 50.0), (5.0, 50.0), (5.0, 50.0))):
        expected += [np.sqrt(constant**2 + (x * per_gev) ** 2) for x in in_band]
    expected += [0.0, 0.0]  # the formula has no term beyond |eta| = 2.5
    np.testing.assert_allclose(detector.track_resolution(kind, pt, abs_eta), expected, rtol=1e-12)


def test_track_resolution_is_capped_at_one():
    # MomentumSmearing: res = (res > 1.0) ? 1.0 : res; sqrt(0.25^2 + (3.1e-3 x 400)^2) = 1.26 at |eta| = 2
    np.testing.assert_allclose(detector.track_resolution("hadron", np.array([300.0, 400.0]), np.array([2.0, 2.0])),
                               [np.hypot(0.25, 0.93), 1.0])


def test_muon_and_electron_tracking_efficiency_bands():
    pt = np.array([0.1, 0.5, 1.0, 50.0, 150.0, 0.5, 50.0, 150.0, 50.0])
    abs_eta = np.array([0.0, 1.5, 1.5, 0.0, 0.0, 1.6, 2.5, 2.5, 2.51])
    np.testing.assert_array_equal(detector.tracking_efficiency("muon", pt, abs_eta), [0, 0.75, 0.75, 0.99, 0.99, 0.70, 0.98, 0.98, 0])
    np.testing.assert_array_equal(detector.tracking_efficiency("electron", pt, abs_eta), [0, 0.73, 0.73, 0.95, 0.99, 0.50, 0.83, 0.90, 0])


def test_efficiency_is_evaluated_where_the_track_reaches_the_calorimeter():
    # Efficiency reads Position.Eta(): a 0.2 GeV pion at eta 2.4 (0.60 by its momentum) curls into the endcap
    # at |eta| = 2.56, beyond the tracker, so no track
    n = 2000
    pt, eta = np.full(n, 0.2), np.full(n, 2.4)
    entry_eta, _ = detector.calorimeter_entry(pt, eta, np.zeros(n), np.ones(n))
    assert np.all(entry_eta > 2.5)
    rows = np.stack([pt * np.cosh(eta), pt, np.zeros(n), pt * np.sinh(eta)], axis=-1)
    flow = detector.reconstruct(
        detector.Particles(np.arange(n), rows[:, 1], rows[:, 2], rows[:, 3], rows[:, 0], np.full(n, 211), np.ones(n)),
        np.random.default_rng(0),
    )
    assert not flow.is_track.any()


def cell_size(calorimeter: detector.Calorimeter, eta: float) -> tuple[float, int]:
    band = np.searchsorted(calorimeter.eta_edges, eta, side="left") - 1
    return float(np.diff(calorimeter.eta_edges)[band]), int(calorimeter.phi_cells[band])


def test_ecal_grid_is_the_cards():
    # 0.0174 x 1 degree up to |eta| = 2.958 (barrel and endcaps), then the forward edges with 10-degree cells
    for eta in (0.0, 0.9, -1.49, 1.5, 2.2, -2.7, 2.95):
        size, n_phi = cell_size(detector.ECAL, eta)
        assert size == pytest.approx(0.0174, abs=1e-9) and n_phi == 360, eta
    assert cell_size(detector.ECAL, 3.0) == (pytest.approx(0.167), 36)  # (2.958, 3.125]
    assert cell_size(detector.ECAL, -4.8) == (pytest.approx(0.3), 36)  # (-5, -4.7]
    assert detector.ECAL.eta_edges[0] == -5 and detector.ECAL.eta_edges[-1] == 5
    # cells are (lower, upper] as std::lower_bound finds them: 0.0174 belongs to the cell below it
    assert detector.ECAL.cell(np.array([0.0174]), np.array([0.0]))[0] == detector.ECAL.cell(np.array([0.01]), np.array([0.0]))[0]


def test_hcal_grid_is_the_cards():
    for eta in (0.05, -1.0, 2.45, -2.55, 2.55):
        assert cell_size(detector.HCAL, eta) == (pytest.approx(0.1), 36), eta
    assert cell_size(detector.HCAL, 2.7) == (pytest.approx(0.2), 18)  # (2.6, 2.8]
    assert cell_size(detector.HCAL, -2.7) == (pytest.approx(0.2), 18)
    assert cell_size(detector.HCAL, -3.25) == (pytest.approx(0.1), 36)  # (-3.3, -3.2]: upper edge in the 10-degree list
    assert cell_size(detector.HCAL, 3.25) == (pytest.approx(0.1), 36)  # (3.2, 3.3]
    assert cell_size(detector.HCAL, 4.0) == (pytest.approx(0.2), 18)
    assert detector.HCAL.eta_edges[0] == -4.9 and detector.HCAL.eta_edges[-1] == 4.9
    assert detector.HCAL.cell(np.array([5.0]), np.array([0.0]))[0] == -1
    # phi: 10-degree cells from -pi, (lower, upper]
    cells = detector.HCAL.cell(np.full(3, 0.05), np.array([-np.pi + 0.01, np.pi / 18 - 1e-9, np.pi / 18 + 1e-9]))
    assert cells[1] - cells[0] == 18 and cells[2] - cells[1] == 1


@pytest.mark.parametrize(
    ("calorimeter", "eta", "energy", "expected"),
    [
        # ECal: (|eta| <= 3.2) sqrt(E^2 0.0017^2 + E 0.101^2) + (3.2 < |eta| <= 4.9) sqrt(E^2 0.035^2 + E 0.285^2)
        ("ECAL", 0.5, 100.0, np.sqrt((0.0017 * 100) ** 2 + 100 * 0.101**2)),
        ("ECAL", 4.0, 100.0, np.sqrt((0.035 * 100) ** 2 + 100 * 0.285**2)),
        # HCal: sqrt(E^2 0.0302^2 + E 0.5205^2 + 1.59^2) to 1.7, sqrt(E^2 0.05^2 + E 0.706^2) to 3.2,
        # sqrt(E^2 0.0942^2 + E 1.00^2) to 4.9
        ("HCAL", 0.05, 50.0, np.sqrt((0.0302 * 50) ** 2 + 50 * 0.5205**2 + 1.59**2)),
        ("HCAL", 1.65, 50.0, np.sqrt((0.0302 * 50) ** 2 + 50 * 0.5205**2 + 1.59**2)),  # cell (1.6, 1.7], centre 1.65
        ("HCAL", 1.75, 50.0, np.sqrt((0.05 * 50) ** 2 + 50 * 0.706**2)),
        ("HCAL", 4.0, 50.0, np.sqrt((0.0942 * 50) ** 2 + 50 * 1.00**2)),
        ("HCAL", 0.05, 0.0, 1.59),  # the noise term of an empty tower
    ],
)
def test_tower_resolution_is_the_cards_formula_at_the_cell_centre(calorimeter, eta, energy, expected):
    cal = getattr(detector, calorimeter)
    cell = cal.cell(np.array([eta]), np.array([0.3]))
    assert cal.sigma(np.array([energy]), cell)[0] == pytest.approx(expected, rel=1e-12)


def test_energy_fractions_and_thresholds_are_the_cards():
    ids = np.array([11, 22, 111, 310, 3122, 211, 2112, 130, 321])
    np.testing.assert_array_equal(detector.ecal_fraction(ids), [1, 1, 1, 0.3, 0.3, 0, 0, 0, 0])
    assert set(detector.CALORIMETER_BLIND) == {12, 13, 14, 16, 1000022, 1000023, 1000025, 1000035, 1000045}
    assert (detector.ECAL.energy_min, detector.HCAL.energy_min, detector.ENERGY_SIGNIFICANCE_MIN) == (0.5, 1.0, 2.0)
    # a tower reads zero below EnergyMin or below 2 sigma
    zero = detector.below_threshold(np.array([0.49, 0.6, 3.0, 3.3]), np.array([0.05, 0.31, 1.6, 1.6]), 0.5)
    np.testing.assert_array_equal(zero, [True, True, True, False])


def test_energy_flow_rules_on_hand_made_towers():
    # columns: tower energy (smeared, thresholded), its sigma, sum of track energies, sum of (resolution x E)^2
    energy = np.array([80.0, 60.0, 0.0, 30.0, 1.2, 5.0])
    sigma = np.array([5.0, 5.0, 4.0, 3.0, 0.1, 2.0])
    tracks_energy = np.array([50.0, 50.0, 20.0, 0.0, 0.0, 0.0])
    tracks_variance = np.array([9.0, 9.0, 4.0, 0.0, 0.0, 0.0])
    neutral, scale = detector.tower_energy_flow(energy, sigma, tracks_energy, tracks_variance, energy_min=1.0)
    # 1: excess 30 > 2 sqrt(9 + 25) = 11.7: a 30 GeV neutral, tracks untouched
    # 2: excess 10 < 11.7: no neutral, tracks to (50/9 + 60/25) / (1/9 + 1/25)
    # 3: a tower read as zero pulls its tracks to (20/4 + 0/16) / (1/4 + 1/16) = 16
    # 4: no tracks: the whole tower is a neutral; 5: 1.2 > EnergyMin and > 2 x 0.1; 6: 5 > 2 x 2: neutrals too
    np.testing.assert_allclose(neutral, [30.0, 0.0, 0.0, 30.0, 1.2, 5.0])
    best = (50 / 9 + 60 / 25) / (1 / 9 + 1 / 25)
    np.testing.assert_allclose(scale, [1.0, best / 50, 16 / 20, 1.0, 1.0, 1.0])
    # an excess at EnergyMin or at exactly 2 sigma makes no neutral (strict >)
    neutral, _ = detector.tower_energy_flow(np.array([1.0, 4.0]), np.array([0.1, 2.0]), np.zeros(2), np.zeros(2), 1.0)
    np.testing.assert_array_equal(neutral, [0.0, 0.0])
