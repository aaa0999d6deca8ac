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


def reconstruct_many(rows: np.ndarray, pdg_id, charge, seeds=range(300)) -> list[detector.EnergyFlow]:
    return [detector.reconstruct(particles(rows, pdg_id, charge), np.random.default_rng(seed)) for seed in seeds]


def test_detector_neutrinos_and_muons_leave_no_tower():
    rows = massless([50.0, 50.0], [0.3, 3.0], [0.1, 0.1])
    flow = detector.reconstruct(particles(rows, [12, 13], [0, -1]), np.random.default_rng(0))
    assert len(flow.e) == 0  # the muon is outside the tracker and never reaches a tower


def test_detector_photons_in_one_ecal_cell_merge_smeared_at_random_inside_the_cell():
    rows = massless([40.0, 60.0], [0.51, 0.52], [0.32, 0.33])  # one 0.0174 x 1 degree cell
    flows = reconstruct_many(rows, [22, 22], [0, 0], range(200))
    assert all(len(flow.e) == 1 for flow in flows)
    energies = np.array([flow.e[0] for flow in flows])
    eta = np.array([np.arcsinh(flow.pz[0] / np.hypot(flow.px[0], flow.py[0])) for flow in flows])
    assert np.all((eta > 29 * 0.0174) & (eta < 30 * 0.0174)) and np.std(eta) > 0.003  # uniform in the cell
    true = rows[:, 0].sum()
    constant, stochastic = detector.ECAL.resolution[0, 1:3]
    sigma = np.sqrt((constant * true) ** 2 + stochastic**2 * true)
    assert abs(np.mean(energies) - true) < 4 * sigma / np.sqrt(200)
    assert 0.8 * sigma < np.std(energies) < 1.2 * sigma


def test_tracking_efficiency_follows_the_card_bands():
    pt = np.array([0.05, 0.5, 10.0, 0.5, 10.0, 10.0, 200.0])
    abs_eta = np.array([0.0, 0.0, 0.0, 2.0, 2.0, 2.6, 0.0])
    np.testing.assert_array_equal(detector.tracking_efficiency("hadron", pt, abs_eta), [0, 0.70, 0.95, 0.60, 0.85, 0, 0.95])
    np.testing.assert_array_equal(detector.tracking_efficiency("electron", pt, abs_eta), [0, 0.73, 0.95, 0.50, 0.83, 0, 0.99])
    n = 4000
    rows = massless(np.full(n, 10.0), np.zeros(n), np.linspace(-3, 3, n))
    flow = detector.reconstruct(particles(rows, np.full(n, 211), np.ones(n)), np.random.default_rng(1))
    assert abs(flow.is_track.sum() / n - 0.95) < 0.02
    assert np.all(np.diff(flow.event) >= 0)


def test_track_resolution_and_log_normal_smearing():
    resolution = detector.track_resolution("hadron", np.array([100.0, 100.0]), np.array([0.2, 2.0]))
    np.testing.assert_allclose(resolution, [np.hypot(0.06, 0.13), np.hypot(0.25, 0.31)])
    values = detector.log_normal(np.full(200_000, 10.0), np.full(200_000, 3.0), np.random.default_rng(0))
    assert abs(values.mean() - 10.0) < 0.03 and abs(values.std() - 3.0) < 0.03 and values.min() > 0


def test_tracks_are_massless_along_their_particle():
    rows = np.array([[20.0, 0.0, 19.0, 5.0]])  # a massive charged hadron
    for flow in reconstruct_many(rows, [2212], [1], range(20)):
        tracks = flow.is_track
        np.testing.assert_allclose(flow.e[tracks], np.sqrt(flow.px**2 + flow.py**2 + flow.pz**2)[tracks])
        np.testing.assert_allclose(np.arctan2(flow.py, flow.px)[tracks], np.pi / 2)


def test_energy_flow_makes_neutrals_only_from_significant_excess_and_rescales_tracks():
    # a 50 GeV pion alone: track sigma 0.088 x 50 = 4.4 GeV, tower sigma 4.3 GeV; a neutral needs an excess
    # above 2 sqrt(4.4^2 + 4.3^2) = 12 GeV, otherwise the track is pulled to the weighted mean (sigma 3.1 GeV)
    rows = massless([50.0], [0.0], [0.0])
    track_sigma = 50 * detector.track_resolution("hadron", np.array([50.0]), np.array([0.0]))[0]
    flows = [flow for flow in reconstruct_many(rows, [211], [1], range(400)) if flow.is_track.any()]
    with_neutral = np.array([(~flow.is_track).any() for flow in flows])
    assert with_neutral.mean() < 0.08
    track_energy = np.array([flow.e[flow.is_track][0] for flow, neutral in zip(flows, with_neutral) if not neutral])
    assert abs(track_energy.mean() - 50) < 0.6
    assert 0.6 * track_sigma < np.std(track_energy) < 0.85 * track_sigma


def test_neutral_hadrons_and_k0s_split_between_ecal_and_hcal():
    rows = massless([100.0], [0.0], [0.0])
    k0s = np.array([np.sort(flow.e) for flow in reconstruct_many(rows, [310], [0], range(200))])
    assert k0s.shape == (200, 2)  # one photon-like, one hadron-like object
    assert abs(k0s[:, 0].mean() - 30) < 1 and abs(k0s[:, 1].mean() - 70) < 1.5
    assert all(len(flow.e) == 1 for flow in reconstruct_many(rows, [130], [0], range(20)))


def test_towers_below_threshold_read_zero():
    soft_photon = reconstruct_many(massless([0.2], [0.0], [0.0]), [22], [0], range(50))
    assert all(len(flow.e) == 0 for flow in soft_photon)  # below ECal EnergyMin = 0.5 GeV
    # a 1.5 GeV K_L: HCal sigma 1.7 GeV, seen only when smeared above 2 sigma (about 9 % of the time)
    seen = np.mean([len(flow.e) > 0 for flow in reconstruct_many(massless([1.5], [0.0], [0.0]), [130], [0], range(400))])
    assert 0.04 < seen < 0.15


def test_detector_keeps_events_apart_and_is_seeded():
    rows = massless([30.0, 30.0], [0.0, 0.0], [1.0, 1.0])  # same tower, different events
    flow = detector.reconstruct(particles(rows, [22, 22], [0, 0], event=[0, 1]), np.random.default_rng(2))
    assert list(flow.event) == [0, 1]
    again = detector.reconstruct(particles(rows, [22, 22], [0, 0], event=[0, 1]), np.random.default_rng(2))
    np.testing.assert_array_equal(flow.e, again.e)


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


def test_nsubjettiness_up_to_six_and_both_axes():
    rng = np.random.default_rng(4)
    centres = [(0.0, 0.0), (0.3, 0.1), (-0.2, 0.25), (0.1, -0.3), (-0.3, -0.2), (0.25, 0.35)]
    eta = np.concatenate([c[0] + 0.01 * rng.standard_normal(8) for c in centres])
    phi = np.concatenate([c[1] + 0.01 * rng.standard_normal(8) for c in centres])
    jets = np.zeros((1, 200, 4))
    jets[0, :48] = massless(np.full(48, 10.0), eta, phi)
    one_pass = nsubjettiness(jets, 6)
    assert one_pass.shape == (1, 6)
    np.testing.assert_allclose(one_pass[:, :3], nsubjettiness(jets))  # the features' tau1..tau3
    ratios = one_pass[0, 1:] / one_pass[0, :-1]
    assert np.all(ratios[:4] > 0.45) and ratios[4] < 0.3  # six prongs: tau6 / tau5 drops, the others do not
    plain = nsubjettiness(jets, 6, axes="KT_Axes")
    assert plain[0, 5] / plain[0, 4] < 0.3 and np.all(one_pass <= plain + 1e-9)  # the minimisation only lowers tau


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


def test_charged_particles_bend_to_the_calorimeter_neutrals_fly_straight():
    pt, eta, phi = np.array([1.0, 1.0, 1.0, 0.3]), np.zeros(4), np.full(4, 0.5)
    entry_eta, entry_phi = detector.calorimeter_entry(pt, eta, phi, np.array([1.0, -1.0, 0.0, 1.0]))
    turn = np.arcsin(detector.CALO_RADIUS * detector._GEV_PER_TESLA_METRE * detector.MAGNETIC_FIELD / 2.0)
    np.testing.assert_allclose(entry_phi[:3], [0.5 - turn, 0.5 + turn, 0.5])  # + turns clockwise in Bz > 0
    np.testing.assert_allclose(entry_eta[:3], 0.0, atol=1e-12)
    assert entry_eta[3] == 99.0  # curls up inside the tracker at eta = 0
    # the track keeps the vertex direction while its energy lands about 20 degrees away
    flow = detector.reconstruct(particles(massless([1.0], [0.0], [0.5]), [211], [1]), np.random.default_rng(0))
    np.testing.assert_allclose(np.arctan2(flow.py, flow.px)[flow.is_track], 0.5)
