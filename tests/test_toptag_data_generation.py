"""Generation: reproducible from the seed, independent of workers (local or Dask), resumable, safe."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cli_runner import run_cli
from keraslab.toptag import dataset as ds
from keraslab.toptag.generation import ChunkSpec, GenerationSettings, generate, make_chunk, plan_chunks

SMALL = GenerationSettings(jets=32, seed=3, split=(0.5, 0.25, 0.25), chunk_jets=8)  # train 16 (2 chunks), val 8, test 8


def contents(directory: Path) -> dict[str, np.ndarray]:
    """Every array a jets folder holds, for exact comparisons (files carry timestamps)."""
    arrays = {}
    for sample in ds.ALL_SAMPLES:
        if not ds.sample_path(directory, sample).exists():
            continue
        arrays[sample], labels = ds.read_constituents(ds.sample_path(directory, sample))
        arrays[f"{sample} labels"] = labels if labels is not None else np.load(directory / ds.HIDDEN_LABELS)
        arrays[f"{sample} images"] = ds.read_images(ds.sample_path(directory, sample, "images"))[0]
        arrays[f"{sample} features"] = ds.read_features(ds.sample_path(directory, sample, "features")).to_numpy()
    return arrays


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.fixture(scope="module")
def small_jets(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("small") / "jets"
    generate(directory, SMALL, workers=1, progress=False)
    return directory


def test_chunk_plan_gives_exactly_n_jets():
    settings = GenerationSettings(jets=1001, seed=1, chunk_jets=100)
    chunks = plan_chunks(settings)
    assert sum(c.jets for c in chunks) == 1001
    assert settings.sample_sizes() == {"train": 601, "val": 150, "test": 150, "challenge": 100}
    assert len({c.name for c in chunks}) == len(chunks)
    seeds = {c.pythia_seed(label) for c in chunks for label in (0, 1)}
    assert len(seeds) == 2 * len(chunks) and all(1 <= s <= 900_000_000 for s in seeds)


def test_small_folder_has_exactly_n_jets(small_jets):
    sizes = {s: ds.count_jets(p) if (p := ds.sample_path(small_jets, s)).exists() else 0 for s in ds.ALL_SAMPLES}
    assert sizes == {"train": 16, "val": 8, "test": 8, "challenge": 0}


def test_same_seed_same_jets_other_seed_other_jets(small_jets, tmp_path):
    again = tmp_path / "again"
    generate(again, SMALL, workers=1, progress=False)
    assert_same(contents(small_jets), contents(again))
    first = plan_chunks(SMALL)[0]
    with np.load(small_jets / first.file) as data:
        ours = data["constituents"]
    other_seed = make_chunk(ChunkSpec(first.sample, first.index, first.jets, seed=4))
    assert other_seed["constituents"].shape == ours.shape
    assert not np.array_equal(other_seed["constituents"], ours)


def test_two_workers_give_the_same_jets(small_jets, tmp_path):
    generate(tmp_path / "two", SMALL, workers=2, progress=False)
    assert_same(contents(small_jets), contents(tmp_path / "two"))


def test_dask_local_cluster_gives_the_same_jets(small_jets, tmp_path):
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        generate(tmp_path / "dask", SMALL, scheduler=cluster.scheduler_address, progress=False)
    assert_same(contents(small_jets), contents(tmp_path / "dask"))


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie (Linux /proc)."""
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


def test_resume_after_kill(small_jets, tmp_path):
    out = tmp_path / "killed"
    options = ["--jets", "32", "--seed", "3", "--split", "0.5,0.25,0.25", "--chunk-jets", "8", "--out", str(out)]
    command = [sys.executable, "-m", "keraslab.cli", "toptag", "generate", *options]
    process = subprocess.Popen([*command, "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        manifest = ds.read_manifest(out) if (out / "manifest.json").is_file() else None
        if manifest and manifest["chunks"]:
            break
        time.sleep(0.02)
    children = [int(pid) for pid in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()]
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.time() + 10
    while any(alive(pid) for pid in children) and time.time() < deadline:
        time.sleep(0.1)
    assert children and not any(alive(pid) for pid in children)  # the workers died with the main process
    manifest = ds.read_manifest(out)
    assert not manifest["complete"] and 1 <= len(manifest["chunks"]) < len(plan_chunks(SMALL))
    finished = {name: os.stat(out / entry["file"]).st_mtime_ns for name, entry in manifest["chunks"].items()}

    assert run_cli("toptag", "generate", *options) == 0
    manifest = ds.read_manifest(out)
    assert manifest["complete"] and len(manifest["chunks"]) == len(plan_chunks(SMALL))
    for name, mtime in finished.items():  # finished chunks were not redone
        assert os.stat(out / manifest["chunks"][name]["file"]).st_mtime_ns == mtime
    assert_same(contents(small_jets), contents(out))


def test_corrupt_chunk_and_file_are_regenerated(small_jets, tmp_path):
    copy = shutil.copytree(small_jets, tmp_path / "copy")
    chunk = copy / "chunks" / "train-00001.npz"
    assert chunk.exists()
    chunk.write_bytes(chunk.read_bytes()[:100])  # truncated
    (copy / "test.h5").write_bytes(b"garbage")
    generate(copy, SMALL, workers=1, progress=False)
    assert ds.verify_checksums(copy) == []
    assert ds.sha256(chunk) == ds.read_manifest(copy)["chunks"]["train-00001"]["sha256"]
    assert_same(contents(small_jets), contents(copy))


def test_rerun_of_a_complete_folder_changes_nothing(small_jets, tmp_path):
    copy = shutil.copytree(small_jets, tmp_path / "copy")
    before = {p: p.stat().st_mtime_ns for p in copy.rglob("*.h5")}
    generate(copy, SMALL, workers=1, progress=False)
    assert {p: p.stat().st_mtime_ns for p in copy.rglob("*.h5")} == before


def one_line_error(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--jets", "0"], "--jets must be a positive"),
        (["--jets", "-5"], "--jets must be a positive"),
        (["--jets", "40", "--split", "0.5,0.5,0.5"], "summing to 1"),
        (["--jets", "40", "--split", "a,b,c"], "comma-separated"),
        (["--jets", "3"], "fewer than 2 jets"),
        (["--jets", "40", "--workers", "0"], "--workers must be at least 1"),
    ],
)
def test_bad_options_are_one_line_errors(args, message, tmp_path, capsys):
    assert run_cli("toptag", "generate", "--out", str(tmp_path / "jets"), *args) == 2
    assert message in one_line_error(capsys)


def test_unwritable_output_is_refused(tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("mine")
    assert run_cli("toptag", "generate", "--jets", "40", "--out", str(blocker / "jets")) == 2
    assert "cannot create" in one_line_error(capsys)
    assert run_cli("toptag", "generate", "--jets", "40", "--out", str(blocker)) == 2
    assert "is a file" in one_line_error(capsys)
    assert blocker.read_text() == "mine"


def test_foreign_folder_is_never_touched(tmp_path, capsys):
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "chapter1.tex").write_text("precious")
    for extra in ([], ["--overwrite"]):
        assert run_cli("toptag", "generate", "--jets", "40", "--out", str(folder), *extra) == 2
        assert "not empty" in one_line_error(capsys)
    assert [p.name for p in folder.iterdir()] == ["chapter1.tex"]


def test_other_settings_refused_unless_overwrite(small_jets, tmp_path, capsys):
    copy = shutil.copytree(small_jets, tmp_path / "copy")
    before = {p.name: ds.sha256(p) for p in copy.glob("*.h5")}
    assert run_cli("toptag", "generate", "--jets", "32", "--seed", "9", "--split", "0.5,0.25,0.25", "--chunk-jets", "8",
                   "--out", str(copy)) == 2
    assert "other settings (seed differ)" in one_line_error(capsys)
    assert {p.name: ds.sha256(p) for p in copy.glob("*.h5")} == before
    assert run_cli("toptag", "generate", "--jets", "12", "--seed", "9", "--chunk-jets", "8", "--split", "0.5,0.25,0.25",
                   "--out", str(copy), "--overwrite") == 0
    manifest = json.loads((copy / "manifest.json").read_text())
    assert manifest["settings"]["seed"] == 9 and manifest["complete"]
    assert ds.count_jets(copy / "train.h5") == 6 and ds.count_jets(copy / "val.h5") == 3


def test_a_second_generate_on_the_same_folder_is_refused(small_jets, tmp_path, capsys):
    import fcntl

    copy = shutil.copytree(small_jets, tmp_path / "copy")
    with open(copy / ".generate.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running generate holds it
        assert run_cli("toptag", "generate", "--jets", "32", "--seed", "3", "--split", "0.5,0.25,0.25",
                       "--chunk-jets", "8", "--out", str(copy)) == 2
    assert "another `keraslab toptag generate` is writing" in one_line_error(capsys)
    assert ds.verify_checksums(copy) == []
