"""keraslab scan: shared Optuna studies whose trials are run folders (small sizes: 2-3 epochs per trial)."""

from __future__ import annotations

import inspect
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
import system_services
from cli_runner import run_cli
from local_services import create_database, temporary_postgres

optuna = pytest.importorskip("optuna", reason="keraslab scan needs the scan extra: pip install 'keraslab[scan]'")

from keraslab import scan  # noqa: E402
from keraslab.day1 import networks, parts  # noqa: E402
from keraslab.day1.catalog import PARTS  # noqa: E402
from keraslab.search_space import suggest  # noqa: E402
from keraslab.toptag.catalog import MODELS  # noqa: E402


def _scan(*args: str, env: dict | None = None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "keraslab.cli", "scan", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=600)


def _states(storage: str, study: str) -> list[str]:
    loaded = optuna.load_study(study_name=study, storage=storage)
    return [trial.state.name for trial in loaded.get_trials(deepcopy=False)]


@pytest.mark.parametrize("name", [name for name, part in PARTS.items() if part.search_space])
def test_every_knob_of_a_day_one_space_reaches_the_runner_or_the_builder(name):
    part = PARTS[name]
    trial = optuna.create_study().ask()
    options = suggest(trial, part.search_space)
    accepted = set(inspect.signature(getattr(parts, part.runner)).parameters)
    accepted |= {"optimizer", "learning_rate", "epochs", "batch_size"}  # the recipe, passed on to the fit
    accepted |= set(inspect.signature(networks.BUILDERS[part.networks[0]]).parameters)
    assert options and set(options) <= accepted, set(options) - accepted


def test_every_day_two_network_has_a_space():
    assert all(model.search_space for model in MODELS.values())


def test_scan_trials_are_run_folders_and_the_report_is_self_contained(tmp_path):
    storage = f"sqlite:///{tmp_path}/scans.db"
    done = _scan("regression", "--study", "s", "--storage", storage, "--trials", "3", "--epochs", "2",
                 "--out", str(tmp_path / "trials"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert _states(storage, "s") == ["COMPLETE"] * 3
    for trial in optuna.load_study(study_name="s", storage=storage).trials:
        folder = tmp_path / "trials" / f"trial-{trial.number:04d}"
        assert trial.user_attrs["run_folder"] == str(folder)
        assert {"metrics.json", "history.json", "learning_curves.png"} <= {p.name for p in folder.iterdir()}
    again = _scan("regression", "--study", "s", "--storage", storage, "--trials", "3", "--out", str(tmp_path / "trials"))
    assert again.returncode == 0 and "nothing to add" in again.stdout and len(_states(storage, "s")) == 3

    page = tmp_path / "scan.html"
    assert run_cli("scan", "report", "--study", "s", "--storage", storage, "--out", str(page)) == 0
    text = page.read_text()
    assert "Optimisation history" in text and "Parallel coordinates" in text and "<table" in text
    assert "src=\"http" not in text and "Plotly" in text  # plotly.js embedded, so the page opens offline


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_storage(request, tmp_path):
    """A study storage for several processes: a SQLite file, or a private PostgreSQL server (as the challenge's)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/scans.db"
        return
    with temporary_postgres(system_services.postgres_bin()) as admin:
        yield create_database(admin, "scans")


def test_two_workers_share_one_study(shared_storage, tmp_path):
    storage = shared_storage
    done = _scan("regression", "--study", "w", "--storage", storage, "--trials", "6", "--epochs", "2",
                 "--workers", "2", "--out", str(tmp_path / "trials"))
    assert done.returncode == 0, done.stderr[-2000:]
    trials = optuna.load_study(study_name="w", storage=storage).trials
    finished = [t for t in trials if t.state.name in scan.FINISHED_STATES]
    assert 6 <= len(finished) <= 7  # each worker stops after the trial that reaches 6
    assert len({t.user_attrs["worker"] for t in trials}) == 2


def test_a_killed_workers_trial_is_failed_and_the_study_goes_on(tmp_path):
    storage = f"sqlite:///{tmp_path}/scans.db"
    fast_heartbeat = {"KERASLAB_SCAN_HEARTBEAT_SECONDS": "1"}
    out = ["--out", str(tmp_path / "trials")]
    killed = _scan("regression", "--study", "k", "--storage", storage, "--trials", "2", "--epochs", "3", *out,
                   env={**fast_heartbeat, "KERASLAB_KILL_AFTER_EPOCH": "1"})
    assert killed.returncode == -9
    assert _states(storage, "k") == ["RUNNING"]
    time.sleep(7)  # past the grace period (6 heartbeats)
    survivor = _scan("regression", "--study", "k", "--storage", storage, "--trials", "2", "--epochs", "2", *out,
                     env=fast_heartbeat)
    assert survivor.returncode == 0, survivor.stderr[-2000:]
    assert _states(storage, "k") == ["FAIL", "COMPLETE", "COMPLETE"]


def test_an_unpromising_trial_is_pruned_per_epoch(tmp_path):
    storage = f"sqlite:///{tmp_path}/scans.db"
    study = scan.open_study("regression", "p", storage)
    good = {"layers_depth": 2, "layers_0_units": 100, "layers_1_units": 100, "activation": "relu",
            "optimizer": "adam", "learning_rate": 0.01, "batch_size": 32}
    for _ in range(3):
        study.enqueue_trial(good)
    study.enqueue_trial({"layers_depth": 1, "layers_0_units": 10, "activation": "relu", "optimizer": "sgd",
                         "learning_rate": 1e-4, "batch_size": 512})
    scan.run_scan("regression", study="p", storage=storage, trials=4, timeout=None, out=tmp_path / "trials",
                  fixed={"epochs": 4})
    assert _states(storage, "p") == ["COMPLETE", "COMPLETE", "COMPLETE", "PRUNED"]


@pytest.mark.parametrize("args, message", [
    (["scan", "nope"], "No such command 'nope'"),
    (["scan", "regression", "--storage", "postgresql://nobody@127.0.0.1:1/none"], "cannot open the study storage"),
    (["scan", "report", "--study", "missing"], "no study 'missing'"),
])
def test_bad_input_is_one_line_and_exit_2(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_cli(*args) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1


def test_a_study_keeps_to_its_part(tmp_path, capsys):
    storage = f"sqlite:///{tmp_path}/scans.db"
    scan.open_study("regression", "mine", storage)
    assert run_cli("scan", "classification", "--study", "mine", "--storage", storage) == 2
    assert "scans part regression, not classification" in capsys.readouterr().err


def test_the_dashboard_serves_the_storage(tmp_path):
    pytest.importorskip("optuna_dashboard", reason="pip install 'keraslab[scan]'")
    storage = f"sqlite:///{tmp_path}/scans.db"
    scan.open_study("regression", "live", storage)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "keraslab.cli", "scan", "dashboard", "--storage", storage,
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(120):
            try:
                studies = httpx.get(f"http://127.0.0.1:{port}/api/studies", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.5)
        else:
            pytest.fail("optuna-dashboard did not answer within a minute")
        assert studies.status_code == 200 and "live" in studies.text
    finally:
        server.terminate()
        server.wait(timeout=30)
