"""Fashion-MNIST loading from an offline folder, with SHA-256 verification, on tiny IDX files."""

import hashlib

import numpy as np
import pytest
from day1_data import write_tiny_fashion_mnist

from keraslab.day1 import fashion_mnist
from keraslab.errors import UserError


@pytest.fixture
def tiny(tmp_path):
    """A folder of four tiny IDX .gz files and the checksum set that accepts them."""
    arrays = write_tiny_fashion_mnist(tmp_path)
    sums = {name: hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() for name in arrays}
    return tmp_path, {"tiny test set": sums}, arrays


def test_load_reads_a_verified_folder(tiny):
    folder, checksums, arrays = tiny
    ((x_train, y_train), (x_test, y_test)), source = fashion_mnist.load_with_source(folder, checksums)
    assert source == "tiny test set"
    assert x_train.shape == (12, 28, 28) and x_test.shape == (5, 28, 28) and x_train.dtype == np.uint8
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte.gz"])


def test_environment_variable_names_the_folder(tiny, monkeypatch):
    folder, checksums, _ = tiny
    monkeypatch.setenv(fashion_mnist.ENV_VAR, str(folder))
    (x_train, _), _ = fashion_mnist.load(checksums=checksums)
    assert len(x_train) == 12


def test_files_unknown_to_the_known_releases_are_refused(tiny):
    folder, _, _ = tiny
    with pytest.raises(UserError, match="corrupt or unknown.*--data-dir"):
        fashion_mnist.load(folder)  # the real checksums: tiny files match neither release


def test_a_corrupt_file_is_refused(tiny):
    folder, checksums, _ = tiny
    path = folder / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(UserError, match="t10k-labels-idx1-ubyte.gz is corrupt"):
        fashion_mnist.load(folder, checksums)


def test_a_missing_file_is_refused(tiny):
    folder, checksums, _ = tiny
    (folder / "train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(UserError, match="train-images-idx3-ubyte.gz is missing"):
        fashion_mnist.load(folder, checksums)
    with pytest.raises(UserError, match="does not exist"):
        fashion_mnist.load(folder / "nowhere", checksums)


def test_files_of_two_releases_are_not_mixed(tiny):
    folder, checksums, _ = tiny
    sums = checksums["tiny test set"]
    other = {name: ("0" * 64 if name.startswith("t10k") else digest) for name, digest in sums.items()}
    mixed = {"A": {n: d for n, d in sums.items() if n.startswith("train")}, "B": {n: d for n, d in sums.items() if n.startswith("t10k")}}
    with pytest.raises(UserError, match="mix different releases"):
        fashion_mnist.verify(folder, mixed)
    assert fashion_mnist.verify(folder, {"first": other, "second": sums}) == "second"


def test_cache_status_reports_without_raising(tiny):
    folder, _, _ = tiny
    ok, message = fashion_mnist.cache_status(folder)
    assert not ok and "corrupt or unknown" in message
    ok, message = fashion_mnist.cache_status(folder / "nowhere")
    assert not ok and "does not exist" in message


def test_known_checksums_cover_both_releases_and_all_files():
    assert set(fashion_mnist.KNOWN_CHECKSUMS) == {fashion_mnist.OFFICIAL, fashion_mnist.MIRROR}
    for sums in fashion_mnist.KNOWN_CHECKSUMS.values():
        assert set(sums) == set(fashion_mnist.FILES) and all(len(d) == 64 for d in sums.values())
    assert "NOT" in fashion_mnist.MIRROR
    assert len(fashion_mnist.CLASS_NAMES) == 10


def test_a_trusted_sums_file_extends_the_known_releases(tiny, tmp_path_factory, monkeypatch):
    folder, checksums, _ = tiny
    sums = tmp_path_factory.mktemp("sums") / "SHA256SUMS"
    sums.write_text("".join(f"{digest}  {name}\n" for name, digest in checksums["tiny test set"].items()))
    monkeypatch.setenv(fashion_mnist.SUMS_ENV_VAR, str(sums))
    (_, _), source = fashion_mnist.load_with_source(folder)
    assert source == f"release with the checksums in {sums}"
    sums.write_text("not-a-valid-line\n")
    with pytest.raises(UserError, match="must hold lines"):
        fashion_mnist.load(folder)
