"""``keraslab challenge serve --data DIR``: the jets folder's public files, their index, ranges, and nothing else."""

from __future__ import annotations

import shutil
import socket
from urllib.parse import urlsplit

import pytest
from cli_runner import run_cli
from data_server import serving_data
from fastapi.testclient import TestClient

from keraslab.challenge import store
from keraslab.challenge.commands import load_truth_labels
from keraslab.challenge.data_files import PUBLIC_FILES
from keraslab.challenge.db import make_engine
from keraslab.challenge.server import create_app
from keraslab.toptag import dataset as ds

DB_NAME = "challenge.db"


@pytest.fixture(scope="module")
def class_folder(tiny_jets, tmp_path_factory):
    """A copy of the tiny jets folder with the challenge database beside its files; returns (folder, db)."""
    folder = tmp_path_factory.mktemp("served") / "jets"
    shutil.copytree(tiny_jets, folder)
    db = str(folder / DB_NAME)
    store.create_challenge(make_engine(db), load_truth_labels(folder), 0.5, 5, None)
    return folder, db


@pytest.fixture
def client(class_folder):
    folder, db = class_folder
    with TestClient(create_app(db, folder)) as test_client:
        yield test_client


def test_index_lists_the_public_files_with_size_and_manifest_checksum(client, class_folder):
    folder, _ = class_folder
    recorded = ds.read_manifest(folder)["files"]
    index = {f["name"]: f for f in client.get("/data/").json()["files"]}
    assert sorted(index) == sorted(PUBLIC_FILES)  # the tiny folder has a challenge sample
    assert not [name for name in index if "hidden" in name or "labels" in name]
    for name, entry in index.items():
        assert entry["sha256"] == recorded[name]["sha256"]
        assert entry["size"] == (folder / name).stat().st_size
        reply = client.get(f"/data/{name}")
        assert reply.status_code == 200 and reply.content == (folder / name).read_bytes()


def test_range_request_returns_the_rest_of_the_file(client, class_folder):
    folder, _ = class_folder
    whole = (folder / "train.h5").read_bytes()
    reply = client.get("/data/train.h5", headers={"Range": "bytes=1000-"})
    assert reply.status_code == 206
    assert reply.content == whole[1000:]
    assert reply.headers["content-range"] == f"bytes 1000-{len(whole) - 1}/{len(whole)}"


def test_without_data_there_are_no_data_routes(class_folder):
    _, db = class_folder
    with TestClient(create_app(db)) as plain:
        assert not [path for path in plain.get("/openapi.json").json()["paths"] if path.startswith("/data")]
        assert plain.get("/data/").status_code == 404 and plain.get("/data/train.h5").status_code == 404


PROBES = [
    "/data/hidden/challenge_labels.npy",
    "/data/hidden%2Fchallenge_labels.npy",
    "/data/challenge_labels.npy",
    "/data/hidden",
    "/data/manifest.json",
    f"/data/{DB_NAME}",
    f"/data/../{DB_NAME}",
    "/data/../hidden/challenge_labels.npy",
    "/data/%2e%2e/hidden/challenge_labels.npy",
    "/data/%2e%2e%2fhidden%2fchallenge_labels.npy",
    "/data/..%2F" + DB_NAME,
    "/data/train.h5/../hidden/challenge_labels.npy",
    "/data//etc/passwd",
    "/data/%2Fetc%2Fpasswd",
    "/data/train.h5%00",
    "/hidden/challenge_labels.npy",
    f"/{DB_NAME}",
]


def raw_status(url: str, target: str) -> int:
    """Send ``GET target`` exactly as written (no client normalises the dots) and return the status code."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        connection.sendall(f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode())
        status_line = connection.makefile("rb").readline().decode()
    return int(status_line.split()[1])


def test_hidden_labels_traversal_and_database_are_404_over_http(class_folder):
    folder, db = class_folder
    with serving_data(db, folder) as url:
        assert raw_status(url, "/data/train.h5") == 200  # the probe itself works
        statuses = {target: raw_status(url, target) for target in PROBES}
    assert statuses == {target: 404 for target in PROBES}


def test_serve_data_refuses_a_folder_without_manifest(tmp_path, class_folder, capsys):
    _, db = class_folder
    (tmp_path / "train.h5").write_bytes(b"not jets")
    assert run_cli("challenge", "serve", "--db", db, "--data", str(tmp_path), "--port", "1") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "manifest.json" in err and "\n" not in err


def test_serve_data_refuses_a_challenge_file_of_another_challenge(tmp_path, class_folder, capsys):
    folder, _ = class_folder
    other_db = str(tmp_path / "other.db")
    store.create_challenge(make_engine(other_db), load_truth_labels(folder).repeat(2), 0.5, 5, None)
    assert run_cli("challenge", "serve", "--db", other_db, "--data", str(folder), "--port", "1") == 2
    assert "the challenge in the database has 64" in capsys.readouterr().err
