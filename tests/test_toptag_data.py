"""The generated jets folder (the tiny_jets fixture): format, physics, readers, validate, baseline."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from cli_runner import run_cli
from keraslab.errors import UserError
from keraslab.toptag import dataset as ds


def test_reference_format_read_with_plain_pandas(tiny_jets):
    sizes = {"train": 192, "val": 48, "test": 48}
    for split, size in sizes.items():
        frame = pd.read_hdf(tiny_jets / f"{split}.h5", "table")
        assert list(frame.columns) == ds.REFERENCE_COLUMNS
        assert len(frame) == size
        assert set(frame["ttv"]) == {ds.TTV_CODE[split]}
        assert frame["is_signal_new"].sum() == size // 2
        # QCD jets carry no truth four-vector, top jets carry the top's
        truth = frame[["truthE", "truthPX", "truthPY", "truthPZ"]].to_numpy()
        signal = frame["is_signal_new"].to_numpy() == 1
        assert np.all(truth[~signal] == 0)
        top_mass = np.sqrt(truth[signal, 0] ** 2 - (truth[signal, 1:] ** 2).sum(axis=1))
        assert abs(np.median(top_mass) - 172.5) < 3  # Breit-Wigner tails aside


def test_constituents_pt_ordered_zero_padded_and_no_duplicates(tiny_jets):
    four_vectors, labels = ds.read_constituents(tiny_jets / "train.h5")
    assert four_vectors.shape == (192, 200, 4) and four_vectors.dtype == np.float32
    pt = np.hypot(four_vectors[..., 1], four_vectors[..., 2])
    assert np.all(np.diff(pt, axis=1) <= 1e-3)
    present = four_vectors[..., 0] > 0
    n = present.sum(axis=1)
    assert np.all(present == (np.arange(200) < n[:, None]))  # padding only at the end
    assert np.all(four_vectors[..., 0][present] ** 2 >= (four_vectors[..., 1:][present] ** 2).sum(axis=1) * (1 - 1e-4))
    assert len(np.unique(four_vectors.reshape(len(four_vectors), -1), axis=0)) == len(four_vectors)
    assert labels.dtype == np.int8 and set(labels) == {0, 1}


def test_samples_are_disjoint(tiny_jets):
    leading = [ds.read_constituents(ds.sample_path(tiny_jets, s))[0][:, 0, :] for s in ds.ALL_SAMPLES]
    stacked = np.concatenate(leading)
    assert len(np.unique(stacked, axis=0)) == len(stacked)


def test_masses_and_labels_recomputed_independently(tiny_jets):
    frame = pd.read_hdf(tiny_jets / "test.h5", "table")
    e, px, py, pz = (frame[[f"{c}_{i}" for i in range(200)]].to_numpy(np.float64).sum(axis=1) for c in ("E", "PX", "PY", "PZ"))
    mass = np.sqrt(np.maximum(e**2 - px**2 - py**2 - pz**2, 0))
    features = pd.read_hdf(tiny_jets / "test_features.h5", "table")
    np.testing.assert_allclose(features["mass"], mass, rtol=1e-3, atol=0.05)
    np.testing.assert_allclose(features["pt"], np.hypot(px, py), rtol=1e-4)
    np.testing.assert_array_equal(features["is_signal_new"], frame["is_signal_new"])
    images = pd.read_hdf(tiny_jets / "test_images.h5", "table")
    np.testing.assert_array_equal(images["is_signal_new"], frame["is_signal_new"])
    np.testing.assert_allclose(images["mass"], mass, rtol=1e-3, atol=0.05)


def test_images_and_features_files(tiny_jets):
    images, labels = ds.read_images(tiny_jets / "val_images.h5")
    assert images.shape == (48, 40, 40) and images.dtype == np.float32
    np.testing.assert_allclose(images.sum(axis=(1, 2)), 1.0, rtol=1e-4)
    # flipped: the harder half at positive x (columns) and positive y (rows)
    assert np.all(images[:, :, 20:].sum(axis=(1, 2)) >= images[:, :, :20].sum(axis=(1, 2)) - 0.05)
    assert np.all(images[:, 20:, :].sum(axis=(1, 2)) >= images[:, :20, :].sum(axis=(1, 2)) - 0.05)
    features = ds.read_features(tiny_jets / "val_features.h5")
    assert list(features.columns) == [*ds.FEATURE_COLUMNS, "is_signal_new"]
    np.testing.assert_allclose(features["tau32"], features["tau3"] / features["tau2"], rtol=1e-5)
    np.testing.assert_allclose(features["tau21"], features["tau2"] / features["tau1"], rtol=1e-5)
    np.testing.assert_array_equal(labels, features["is_signal_new"])


def test_challenge_has_no_truth_and_hidden_labels_apart(tiny_jets):
    for kind in ("constituents", "images", "features"):
        columns = pd.read_hdf(ds.sample_path(tiny_jets, "challenge", kind), "table").columns
        assert not {"is_signal_new", "ttv", *ds.TRUTH_COLUMNS} & set(columns)
    four_vectors, labels = ds.read_constituents(tiny_jets / "challenge.h5")
    assert labels is None and four_vectors.shape == (32, 200, 4)
    hidden = np.load(tiny_jets / "hidden" / "challenge_labels.npy")
    assert hidden.dtype == np.int8 and len(hidden) == 32 and hidden.sum() == 16
    # the hidden labels are in file order: top jets are the heavy ones
    mass = ds.read_features(tiny_jets / "challenge_features.h5")["mass"].to_numpy()
    assert np.median(mass[hidden == 1]) > np.median(mass[hidden == 0]) + 50


def test_manifest_checksums(tiny_jets):
    manifest = json.loads((tiny_jets / "manifest.json").read_text())
    assert manifest["complete"] and manifest["settings"]["jets"] == 320
    assert sum(c["jets"] for c in manifest["chunks"].values()) == 320
    assert ds.verify_checksums(tiny_jets) == []
    assert "hidden/challenge_labels.npy" in manifest["files"]


def test_physics_checks_pass(tiny_jets):
    from keraslab.toptag.validation import physics_checks

    checks = physics_checks(ds.read_features(tiny_jets / "train_features.h5"))
    assert [c["name"] for c in checks if not c["passed"]] == []


def test_physics_checks_catch_a_broken_sample(tiny_jets):
    from keraslab.toptag.validation import physics_checks

    features = ds.read_features(tiny_jets / "train_features.h5")
    swapped = features.assign(is_signal_new=1 - features["is_signal_new"])
    failed = {c["name"] for c in physics_checks(swapped) if not c["passed"]}
    assert {"top mass peak", "QCD mass falls", "tau32 separates"} <= failed
    shifted = features.assign(pt=features["pt"] + 60)
    assert "jet pT window" in {c["name"] for c in physics_checks(shifted) if not c["passed"]}


def test_validate_and_baseline_commands(tiny_jets, tmp_path):
    assert run_cli("toptag", "validate", str(tiny_jets), "--out", str(tmp_path / "plots")) == 0
    for name in ("mass.png", "tau32.png", "pt.png", "multiplicity.png", "average_images.png", "validation.json"):
        assert (tmp_path / "plots" / name).stat().st_size > 1000
    assert run_cli("run", "toptag-baseline", "--data", str(tiny_jets), "--out", str(tmp_path / "base")) == 0
    metrics = json.loads((tmp_path / "base" / "metrics.json").read_text())
    assert 0.8 < metrics["auc"] <= 1.0
    assert metrics["rejection_at_30"] > 5 and metrics["auc_uncertainty"] > 0
    low, high = metrics["mass_window"]
    assert low < 172.5 < high
    assert (tmp_path / "base" / "roc.png").is_file()
    # a finished run is a run folder: kept unless --overwrite, like every other part's
    baseline = ("run", "toptag-baseline", "--data", str(tiny_jets), "--out", str(tmp_path / "base"))
    assert run_cli(*baseline) == 2
    assert run_cli(*baseline, "--overwrite") == 0
    assert json.loads((tmp_path / "base" / "metrics.json").read_text())["auc"] == metrics["auc"]


def test_validate_fails_on_a_tampered_folder(tiny_jets, tmp_path, capsys):
    copy = shutil.copytree(tiny_jets, tmp_path / "jets")
    with open(copy / "val.h5", "ab") as handle:
        handle.write(b"tampered")
    assert run_cli("toptag", "validate", str(copy), "--out", str(tmp_path / "plots")) == 2
    captured = capsys.readouterr()
    assert "FAIL checksums: val.h5 does not match" in captured.out


def test_derive_reproduces_features_from_reference_files(tiny_jets, tmp_path):
    from keraslab.toptag.derive import derive

    zenodo = tmp_path / "zenodo"
    zenodo.mkdir()
    for split in ds.SPLITS:  # the official files are fixed-format HDFStores
        pd.read_hdf(tiny_jets / f"{split}.h5", "table").to_hdf(zenodo / f"{split}.h5", key="table", format="fixed")
    assert not ds.dataset_status(zenodo)[0]
    written = derive(zenodo, block_jets=50)
    assert len(written) == 6
    ok, message = ds.dataset_status(zenodo)
    assert ok, message
    for split in ds.SPLITS:
        ours = ds.read_features(ds.sample_path(tiny_jets, split, "features"))
        derived = ds.read_features(ds.sample_path(zenodo, split, "features"))
        pd.testing.assert_frame_equal(ours, derived, check_dtype=False, rtol=1e-5)
        np.testing.assert_allclose(
            ds.read_images(ds.sample_path(zenodo, split, "images"))[0],
            ds.read_images(ds.sample_path(tiny_jets, split, "images"))[0],
            atol=1e-6,
        )


def test_dataset_status(tiny_jets, tmp_path, monkeypatch):
    ok, message = ds.dataset_status(tiny_jets)
    assert ok and "train 192" in message
    monkeypatch.setenv("KERASLAB_JETS_DIR", str(tmp_path / "none"))
    ok, message = ds.dataset_status()
    assert not ok and "keraslab toptag generate" in message
    for split in ds.SPLITS:
        (tmp_path / f"{split}.h5").write_bytes(b"truncated")
    ok, message = ds.dataset_status(tmp_path)
    assert not ok and "cannot read" in message


def test_readers_reject_missing_and_wrong_files(tiny_jets, tmp_path):
    with pytest.raises(UserError, match="train.h5, val.h5, test.h5"):
        ds.read_constituents(tmp_path / "train.h5")
    with pytest.raises(UserError, match="lacks columns img_0"):
        ds.read_images(tiny_jets / "train.h5")
    with pytest.raises(UserError, match="lacks columns E_0"):
        ds.read_constituents(tiny_jets / "train_features.h5")
    garbage = tmp_path / "garbage.h5"
    garbage.write_bytes(b"not hdf5")
    with pytest.raises(UserError, match="corrupt"):
        ds.read_features(garbage)
    four_vectors, _ = ds.read_constituents(tiny_jets / "train.h5", n_jets=5)
    assert four_vectors.shape == (5, 200, 4)


def test_nsub_baseline_and_uncertainties_in_metrics(tiny_jets, tmp_path):
    assert run_cli("run", "toptag-nsub", "--data", str(tiny_jets), "--out", str(tmp_path / "nsub")) == 0
    metrics = json.loads((tmp_path / "nsub" / "metrics.json").read_text())
    assert metrics["features"] == ["mass", "tau1", "tau2", "tau3", "tau4", "tau5", "tau6",
                                   "tau21", "tau32", "tau43", "tau54", "tau65"]
    assert 0.7 < metrics["auc"] <= 1.0 and 0 < metrics["auc_uncertainty"] < 0.1
    low, high = metrics["rejection_at_30_interval"]
    assert low <= metrics["rejection_at_30"] <= high
    test_labels = ds.read_features(tiny_jets / "test_features.h5")[ds.LABEL_COLUMN].to_numpy()
    assert metrics["n_test_background"] == np.sum(test_labels == 0)
    assert 0 <= metrics["background_passing_at_30"] <= metrics["n_test_background"]
    scores = np.load(tmp_path / "nsub" / "scores.npy")
    assert len(scores) == len(test_labels) and (tmp_path / "nsub" / "roc.png").is_file()
    # the same seed gives the same classifier, whatever the number of processes computing N-subjettiness
    assert run_cli("run", "toptag-nsub", "--data", str(tiny_jets), "--out", str(tmp_path / "nsub"), "--overwrite",
                   "--workers", "2") == 0
    np.testing.assert_array_equal(np.load(tmp_path / "nsub" / "scores.npy"), scores)


def test_nsub_table_is_the_same_on_several_processes(tiny_jets, monkeypatch):
    from keraslab.toptag import baseline

    monkeypatch.setattr(baseline, "NSUB_BLOCK_JETS", 7)  # several blocks even on the tiny sample
    one = baseline.nsub_table(tiny_jets, "train", n_jets=30)
    pd.testing.assert_frame_equal(baseline.nsub_table(tiny_jets, "train", n_jets=30, workers=3), one)
    assert list(one.columns) == [*baseline.NSUB_FEATURES, ds.LABEL_COLUMN] and len(one) == 30
    assert (one["tau2"] <= one["tau1"] + 1e-6).all() and one["mass"].gt(0).all()
