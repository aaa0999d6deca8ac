"""``keraslab toptag download``: the class's jets from the tutor's server, resumed, checked, never overwriting."""

from __future__ import annotations

import pytest
from cli_runner import run_cli
from data_server import serving_data
from local_services import LOOPBACK, free_port

from keraslab.challenge import store
from keraslab.challenge.commands import load_truth_labels
from keraslab.challenge.data_files import PUBLIC_FILES
from keraslab.challenge.db import make_engine
from keraslab.toptag import dataset as ds
from keraslab.toptag.validation import validate


@pytest.fixture(scope="module")
def server(tiny_jets, tmp_path_factory):
    """The tutor's server over the tiny jets folder; yields (url, folder)."""
    db = str(tmp_path_factory.mktemp("tutor") / "challenge.db")
    store.create_challenge(make_engine(db), load_truth_labels(tiny_jets), 0.5, 5, None)
    with serving_data(db, tiny_jets) as url:
        yield url, tiny_jets


def download(url, out) -> int:
    return run_cli("toptag", "download", "--server", url, "--out", str(out))


def one_line_error(capsys) -> str:
    """The error, one line and the last one (the progress bar shares stderr)."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: ")
    return last


def test_download_copies_every_public_file_and_day_two_accepts_the_folder(server, tmp_path):
    url, tutor = server
    out = tmp_path / "jets"
    assert download(url, out) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([*PUBLIC_FILES, ds.MANIFEST])  # no hidden/, no .part left
    for name in PUBLIC_FILES:
        assert (out / name).read_bytes() == (tutor / name).read_bytes()
    assert ds.verify_checksums(out) == []
    ready, why = ds.dataset_status(out)
    assert ready, why
    images, labels = ds.read_images(ds.sample_path(out, "train", "images"))
    assert len(images) == len(labels) > 0
    report = validate(out, tmp_path / "plots", sample="train")
    assert {c["name"]: c["passed"] for c in report["checks"]}["checksums"]
    assert download(url, out) == 0  # a rerun finds everything there


def test_interrupted_download_resumes_from_the_partial_file(server, tmp_path):
    url, tutor = server
    out = tmp_path / "jets"
    out.mkdir()
    whole = (tutor / "train.h5").read_bytes()
    (out / "train.h5.part").write_bytes(whole[: len(whole) // 2])
    assert download(url, out) == 0
    assert (out / "train.h5").read_bytes() == whole
    assert not (out / "train.h5.part").exists()


def test_corrupted_partial_fails_its_checksum_then_a_rerun_fetches_it_again(server, tmp_path, capsys):
    url, tutor = server
    out = tmp_path / "jets"
    out.mkdir()
    whole = (tutor / "val.h5").read_bytes()
    (out / "val.h5.part").write_bytes(b"\0" * 16 + whole[16 : len(whole) // 2])  # resumed, not refetched: the bad head stays
    assert download(url, out) == 2
    error = one_line_error(capsys)
    assert "val.h5" in error and "does not match its SHA-256 checksum" in error
    assert not (out / "val.h5").exists() and not (out / "val.h5.part").exists()
    assert not (out / ds.MANIFEST).exists()
    assert download(url, out) == 0
    assert (out / "val.h5").read_bytes() == whole


def test_a_different_existing_file_is_never_overwritten(server, tmp_path, capsys):
    url, _ = server
    out = tmp_path / "jets"
    out.mkdir()
    (out / "test.h5").write_bytes(b"my own test file")
    assert download(url, out) == 2
    assert "test.h5 exists with other contents" in one_line_error(capsys)
    assert (out / "test.h5").read_bytes() == b"my own test file"


def test_a_server_without_data_is_one_line(tiny_jets, tmp_path, capsys):
    db = str(tmp_path / "challenge.db")
    store.create_challenge(make_engine(db), load_truth_labels(tiny_jets), 0.5, 5, None)
    with serving_data(db, None) as url:
        assert download(url, tmp_path / "jets") == 2
    assert "serves no jets; the tutor starts it with `keraslab challenge serve --data DIR`" in one_line_error(capsys)


def test_unreachable_server_is_one_line(tmp_path, capsys):
    assert download(f"http://{LOOPBACK}:{free_port()}", tmp_path / "jets") == 2
    assert "cannot reach the challenge server" in one_line_error(capsys)
    assert not (tmp_path / "jets").exists()
