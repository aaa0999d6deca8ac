"""Detector model, jet images and N-subjettiness on hand-made inputs."""

from __future__ import annotations

import numpy as np
import pytest

from keraslab.toptag import detector
from keraslab.toptag.images import jet_images
from keraslab.toptag.substructure import jet_features, jet_kinematics, nsubjettiness


def massless(pt, eta, phi) -> np.ndarray:
    """(E, px, py, pz) rows for massless particles."""
    pt, eta, phi = map(np.atleast_1d, (pt, eta, phi))
    return np.stack([pt * np.cosh(eta), pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)], axis=-1)


def particles(rows: np.ndarray, pdg_id, charge, event=None) -> detector.Particles:
    n = len(rows)
    return detector.Particles(
        event=np.zeros(n, int) if event is None else np.asarray(event),
        e=rows[:, 0], px=rows[:, 1], py=rows[:, 2], pz=rows[:, 3],
        pdg_id=np.asarray(pdg_id), charge=np.asarray(charge, float),
    )


def test_detector_neutrinos_and_muons_leave_no_tower():
    rows = massless([50.0, 50.0], [0.3, 3.0], [0.1, 0.1])
    flow = detector.reconstruct(particles(rows, [12, 13], [0, -1]), np.random.default_rng(0))
    assert len(flow.e) == 0  # the muon is outside the tracker and never reaches a tower


def test_detector_photons_in_one_tower_merge_and_are_smeared():
    rows = massless([40.0, 60.0], [0.51, 0.52], [0.31, 0.32])
    energies = []
    for seed in range(200):
        flow = detector.reconstruct(particles(rows, [22, 22], [0, 0]), np.random.default_rng(seed))
        assert len(flow.e) == 1
        energies.append(flow.e[0])
        assert abs(np.hypot(flow.px[0], flow.py[0]) * np.cosh(0.55) - flow.e[0]) < 1e-6 * flow.e[0]  # tower centre
    true = rows[:, 0].sum()
    sigma = np.sqrt((detector.EM_CONSTANT * true) ** 2 + detector.EM_STOCHASTIC**2 * true)
    assert abs(np.mean(energies) - true) < 4 * sigma / np.sqrt(200)
    assert 0.7 * sigma < np.std(energies) < 1.3 * sigma


def test_detector_tracks_charged_particles_with_efficiency():
    n = 4000
    rows = massless(np.full(n, 10.0), np.zeros(n), np.linspace(-3, 3, n))
    flow = detector.reconstruct(particles(rows, np.full(n, 211), np.ones(n)), np.random.default_rng(1))
    assert abs(flow.is_track.sum() / n - detector.TRACK_EFFICIENCY_CENTRAL) < 0.02
    np.testing.assert_allclose(flow.e[flow.is_track], 10.0, rtol=0.05)
    assert np.all(np.diff(flow.event) >= 0)


def test_detector_calorimeter_sees_only_what_tracks_missed():
    # one tracked 50 GeV pion alone in its tower: the tower's excess over the track is noise,
    # above threshold in a minority of events; an untracked one leaves its whole energy
    rows = massless([50.0], [0.0], [0.0])
    excess = []
    for seed in range(300):
        flow = detector.reconstruct(particles(rows, [211], [1]), np.random.default_rng(seed))
        if flow.is_track.any():
            excess.append(flow.e[~flow.is_track].sum())
        else:
            assert flow.e.sum() > 30
    excess = np.array(excess)
    assert 0.1 < np.mean(excess > 0) < 0.6 and np.all(excess < 40)


def test_detector_keeps_events_apart():
    rows = massless([30.0, 30.0], [0.0, 0.0], [1.0, 1.0])  # same tower, different events
    flow = detector.reconstruct(particles(rows, [22, 22], [0, 0], event=[0, 1]), np.random.default_rng(2))
    assert list(flow.event) == [0, 1]


def test_kinematics_of_two_prongs():
    jet = np.zeros((1, 200, 4))
    jet[0, :2] = massless([100.0, 100.0], [0.2, 0.2], [0.0, 0.4])
    kinematics = jet_kinematics(jet)
    expected_mass = np.sqrt(2 * 100 * 100 * (np.cosh(0.0) - np.cos(0.4)))
    assert kinematics["mass"][0] == pytest.approx(expected_mass, rel=1e-9)
    pt = 200 * np.cos(0.2)  # the prongs' sum points at phi = 0.2
    assert kinematics["pt"][0] == pytest.approx(pt, rel=1e-9)
    assert kinematics["eta"][0] == pytest.approx(np.arcsinh(200 * np.sinh(0.2) / pt), rel=1e-9)


def test_nsubjettiness_counts_prongs():
    rng = np.random.default_rng(3)

    def prongs(centres):
        rows = [massless(rng.uniform(5, 15, 15), eta + rng.normal(0, 0.02, 15), phi + rng.normal(0, 0.02, 15)) for eta, phi in centres]
        jet = np.zeros((200, 4))
        stacked = np.concatenate(rows)
        jet[: len(stacked)] = stacked
        return jet

    jets = np.stack([prongs([(0, 0)]), prongs([(0, 0), (0.4, 0)]), prongs([(0, 0), (0.4, 0), (0.2, 0.35)])])
    tau = nsubjettiness(jets)
    tau21, tau32 = tau[:, 1] / tau[:, 0], tau[:, 2] / tau[:, 1]
    assert tau21[1] < 0.3 and tau21[0] > tau21[1]
    assert tau32[2] < 0.3 and tau32[1] > tau32[2]
    features = jet_features(jets)
    assert list(features["n_constituents"]) == [15, 30, 45]


def test_images_centred_rotated_flipped_normalised():
    jet = np.zeros((1, 200, 4))
    # a hard prong and a soft one along a diagonal: after rotation they lie on the vertical axis
    jet[0, :2] = massless([300.0, 100.0], [0.0, 0.3], [0.0, 0.3])
    image = jet_images(jet)[0]
    assert image.shape == (40, 40) and image.sum() == pytest.approx(1.0)
    rows, columns = np.nonzero(image)
    assert set(columns) <= {19, 20} and len(rows) == 2  # vertical: one column (or its neighbour)
    hard_row = rows[np.argmax(image[rows, columns])]
    assert hard_row >= 20  # the harder half sits at positive y
    assert image.max() == pytest.approx(0.75)
    assert np.all(jet_images(np.zeros((2, 200, 4))) == 0)
