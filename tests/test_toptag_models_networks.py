"""The day-two networks and their inputs, on small random arrays."""

from __future__ import annotations

import numpy as np
import pytest

from keraslab.errors import UserError
from keraslab.toptag import inputs

keras = pytest.importorskip("keras")
from keraslab.toptag import networks  # noqa: E402  (after Keras)

RNG = np.random.default_rng(7)


def random_jets(n_jets: int, n_real: int, n_slots: int) -> np.ndarray:
    """(n_jets, n_slots, 4) massless constituents around eta ~ 0.5, phi ~ 3 (near the wrap), zero-padded."""
    pt = RNG.uniform(1, 100, (n_jets, n_real))
    eta = 0.5 + RNG.normal(0, 0.3, (n_jets, n_real))
    phi = np.pi - 0.05 + RNG.normal(0, 0.3, (n_jets, n_real))
    p4 = np.stack([pt * np.cosh(eta), pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)], axis=-1)
    padded = np.zeros((n_jets, n_slots, 4))
    padded[:, :n_real] = p4
    return padded


# --- inputs ------------------------------------------------------------------------------------


def test_particle_features_are_relative_to_the_jet_axis_and_zero_for_padding():
    p4 = random_jets(5, 12, 20)
    features = inputs.particle_features(p4)
    assert features.shape == (5, 20, len(inputs.PARTICLE_FEATURES))
    assert np.all(features[:, 12:] == 0)
    assert np.all(np.any(features[:, :12] != 0, axis=-1))
    delta_eta, delta_phi, log_pt, log_e, log_pt_rel, log_e_rel, delta_r = np.moveaxis(features[:, :12], -1, 0)
    # phi ~ pi sits on the wrap: relative to the jet axis it must stay small
    assert np.abs(delta_phi).max() < 2.0
    assert np.abs(delta_eta).max() < 2.5
    np.testing.assert_allclose(delta_r, np.hypot(delta_eta, delta_phi), rtol=1e-5)
    # pT-weighted centroid of massless constituents ~ the jet axis
    pt = np.exp(log_pt)
    assert np.abs((pt * delta_eta).sum(1) / pt.sum(1)).max() < 0.05
    assert np.all(log_pt_rel < 0) and np.all(log_e_rel < 0)
    np.testing.assert_allclose(np.sort(np.exp(log_e), axis=1), np.sort(p4[:, :12, 0], axis=1), rtol=1e-5)
    # sorted by decreasing pT
    assert np.all(np.diff(log_pt, axis=1) <= 1e-6)


def test_particle_features_keep_the_hardest_constituents():
    p4 = random_jets(3, 30, 40)
    reversed_order = p4[:, ::-1]
    kept = inputs.particle_features(reversed_order, n_constituents=10)
    assert kept.shape == (3, 10, 7)
    top10 = np.sort(np.hypot(p4[:, :30, 1], p4[:, :30, 2]), axis=1)[:, ::-1][:, :10]
    np.testing.assert_allclose(np.exp(kept[..., 2]), top10, rtol=1e-4)


def test_lab_input_is_the_first_20_constituents_flattened():
    p4 = random_jets(4, 25, 200)
    x = inputs.lab_constituents(p4)
    assert x.shape == (4, 80)
    np.testing.assert_allclose(x[1, 4:8], p4[1, 1], rtol=1e-6)


def test_image_input_is_unit_sum_with_a_channel_axis():
    images = RNG.uniform(0, 5, (3, 40, 40))
    images[2] = 0
    x = inputs.image_input(images)
    assert x.shape == (3, 40, 40, 1)
    np.testing.assert_allclose(x[:2].sum(axis=(1, 2, 3)), 1.0, rtol=1e-5)
    assert np.all(x[2] == 0)


@pytest.mark.parametrize("bad", [np.zeros((3, 200)), np.zeros((3, 200, 3))])
def test_wrong_constituent_shape_is_a_user_error(bad):
    with pytest.raises(UserError, match=r"\(jets, constituents, 4\)"):
        inputs.particle_features(bad)


# --- the lab's networks ------------------------------------------------------------------------


def test_lab_cnn_has_6538_parameters():
    assert networks.build("toptag-cnn").count_params() == 6538


def test_lab_dnn_is_dense50_then_softmax():
    model = networks.build("toptag-dnn")
    assert model.input_shape == (None, 80)
    assert model.count_params() == 80 * 50 + 50 + 50 * 2 + 2
    out = model.predict(RNG.normal(size=(6, 80)).astype("float32"), verbose=0)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


def test_unknown_name_lists_the_models():
    with pytest.raises(ValueError, match="toptag-particlenet"):
        networks.build("toptag-resnet")


# --- particle clouds: masking, permutation invariance, kNN -------------------------------------


@pytest.mark.parametrize("name", ["toptag-pfn", "toptag-particlenet"])
def test_particle_networks_ignore_padding_and_order(name):
    keras.utils.set_random_seed(1)
    model = networks.build(name)
    features = inputs.particle_features(random_jets(4, 15, 20))
    reference = model.predict(features, verbose=0)
    assert not np.allclose(reference[0], reference[1])  # the jets differ, so must the outputs

    more_padding = np.concatenate([features, np.zeros((4, 13, 7), np.float32)], axis=1)
    np.testing.assert_allclose(model.predict(more_padding, verbose=0), reference, atol=1e-5)

    shuffled = features[:, RNG.permutation(20)]
    np.testing.assert_allclose(model.predict(shuffled, verbose=0), reference, atol=1e-5)


def test_pfn_output_changes_when_a_real_particle_changes():
    model = networks.build("toptag-pfn")
    features = inputs.particle_features(random_jets(2, 10, 12))
    changed = features.copy()
    changed[:, 0, 2] += 1.0
    assert not np.allclose(model.predict(features, verbose=0), model.predict(changed, verbose=0))


def test_nearest_neighbours_match_brute_force_and_skip_padding():
    points = RNG.normal(size=(3, 12, 2)).astype("float32")
    valid = np.ones((3, 12, 1), np.float32)
    valid[:, 9:] = 0
    points[:, 9:] = 0.0  # padded particles at the origin, amid the real ones
    k = 4
    found = keras.ops.convert_to_numpy(networks.nearest_neighbours(points, valid, k))
    for jet in range(3):
        real = points[jet, :9]
        distances = ((real[:, None] - real[None]) ** 2).sum(-1)
        np.fill_diagonal(distances, np.inf)
        expected = np.argsort(distances, axis=1)[:, :k]
        assert np.array_equal(np.sort(found[jet, :9], axis=1), np.sort(expected, axis=1))


def test_edge_features_are_centre_and_difference():
    points = RNG.normal(size=(2, 6, 2)).astype("float32")
    features = RNG.normal(size=(2, 6, 3)).astype("float32")
    valid = np.ones((2, 6, 1), np.float32)
    edges = keras.ops.convert_to_numpy(networks.EdgeFeatures(2)(points, features, valid))
    neighbours = keras.ops.convert_to_numpy(networks.nearest_neighbours(points, valid, 2))
    assert edges.shape == (2, 6, 2, 6)
    for b in range(2):
        for i in range(6):
            for slot, j in enumerate(neighbours[b, i]):
                np.testing.assert_allclose(edges[b, i, slot, :3], features[b, i], rtol=1e-6)
                np.testing.assert_allclose(edges[b, i, slot, 3:], features[b, j] - features[b, i], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["toptag-particlenet", "toptag-cnn-improved"])
def test_networks_save_and_load(tmp_path, name):
    model = networks.build(name)
    shape = (3, 16, 7) if name == "toptag-particlenet" else (3, 40, 40, 1)
    x = np.abs(RNG.normal(size=shape)).astype("float32")
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
