"""Trials per minute of one shared Optuna study with 1 and 2 worker processes (keraslab scan).

Each measurement creates a fresh study, enqueues the same trial N times (the regression
part with a 100-100 Adam network, so every trial costs the same), and runs
``keraslab scan regression --workers W`` until the study holds N finished trials; the
wall time includes each worker's start (importing Keras). Rounds alternate 1 and 2
workers; the table shows medians and the ratio. Storage: SQLite, and PostgreSQL where
its server programs are installed (a throwaway server, as in the tests).

    .venv/bin/python benchmarks/scan_scaling.py --trials 16 --epochs 10 --rounds 3
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna

from keraslab import scan

# the throwaway PostgreSQL server is a test helper, not part of the package
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from local_services import create_database, temporary_postgres  # noqa: E402
from system_services import find_postgres_bin  # noqa: E402

SAME_TRIAL = {"layers_depth": 2, "layers_0_units": 100, "layers_1_units": 100, "activation": "relu",
              "optimizer": "adam", "learning_rate": 1e-3, "batch_size": 64}


@contextlib.contextmanager
def storage_url(kind: str, folder: Path):
    if kind == "sqlite":
        yield f"sqlite:///{folder}/scans.db"
        return
    with temporary_postgres(find_postgres_bin()) as server:
        yield create_database(server, "scans")


def trials_per_minute(url: str, study: str, workers: int, trials: int, epochs: int, folder: Path) -> float:
    opened = scan.open_study("regression", study, url)
    for _ in range(trials):
        opened.enqueue_trial(SAME_TRIAL)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "keraslab.cli", "scan", "regression", "--study", study, "--storage", url,
                    "--trials", str(trials), "--epochs", str(epochs), "--workers", str(workers),
                    "--out", str(folder / study)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "KERAS_BACKEND": "jax"})
    minutes = (time.perf_counter() - start) / 60
    finished = [t for t in optuna.load_study(study_name=study, storage=url).trials
                if t.state.name in scan.FINISHED_STATES]
    return len(finished) / minutes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--storage", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    print(f"{os.cpu_count()} CPUs; {args.trials} trials of {args.epochs} epochs per measurement, {args.rounds} rounds")
    print("| storage | 1 worker, trials/min | 2 workers, trials/min | 2 / 1 |")
    print("|---|---|---|---|")
    for kind in args.storage:
        if kind == "postgresql" and find_postgres_bin() is None:
            print(f"| {kind} | not measured: no PostgreSQL server programs | | |")
            continue
        with tempfile.TemporaryDirectory() as tmp, storage_url(kind, Path(tmp)) as url:
            rates: dict[int, list[float]] = {1: [], 2: []}
            for round_ in range(args.rounds):
                for workers in ((1, 2) if round_ % 2 == 0 else (2, 1)):  # alternate which goes first
                    rates[workers].append(trials_per_minute(url, f"r{round_}-w{workers}", workers, args.trials,
                                                            args.epochs, Path(tmp)))
            one, two = statistics.median(rates[1]), statistics.median(rates[2])
            print(f"| {kind} | {one:.1f} | {two:.1f} | {two / one:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
