"""Load test of the challenge server on the loopback interface, with SQLite and PostgreSQL, 1 or more workers.

Starts its own server (``keraslab challenge serve``, and for PostgreSQL its own
database server with fsync on) on 127.0.0.1, lets ``--clients`` concurrent teams
upload 100k-jet submissions until ``--submissions`` uploads or ``--max-seconds``
have passed, then stops everything and prints throughput, latency percentiles and
the acknowledged-vs-stored counts (which must be equal). A 503 (the server's bound
on uploads in flight) is retried after its Retry-After, as the client does, and
counted. PostgreSQL runs once per ``--workers`` count; SQLite with one worker
(``serve`` refuses more). ``--scoring`` also times the scoring of one 100k-jet submission.

    .venv/bin/python benchmarks/challenge_load.py                  # SQLite; PostgreSQL with 1 and 2 workers
    .venv/bin/python benchmarks/challenge_load.py --backend postgresql --workers 1 2 --clients 20 --submissions 200
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import numpy as np

from keraslab.challenge import store
from keraslab.challenge.db import make_engine
from keraslab.challenge.scoring import public_and_private, score
from keraslab.challenge.submission import read_submission
from keraslab.metrics import classifier_summary

# the throwaway PostgreSQL and server processes are test helpers, not part of the package
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from local_services import create_database, running_server, temporary_postgres  # noqa: E402
from system_services import POSTGRES_INSTALL, find_postgres_bin  # noqa: E402


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@contextlib.contextmanager
def database(backend: str):
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="keraslab-load-") as folder:
            yield str(Path(folder) / "challenge.db")
    else:
        with temporary_postgres(find_postgres_bin(), fsync=True) as admin_url:
            yield create_database(admin_url, f"load_{uuid.uuid4().hex[:8]}")


def load_run(backend: str, workers: int, n_clients: int, max_submissions: int, max_seconds: float, n_jets: int) -> dict:
    """One load run; returns the measured figures."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, n_jets).astype(np.int8)
    payload = npy_bytes((0.5 + 0.1 * (labels - 0.5) + 0.1 * rng.normal(size=n_jets)).astype(np.float32))
    with database(backend) as db:
        engine = make_engine(db)
        store.create_challenge(engine, labels, 0.5, daily_limit=1_000_000, closes_at=None)
        tokens = [store.add_team(engine, f"team{i:02d}") for i in range(n_clients)]
        latencies: list[float] = []
        acknowledged: list[int] = []
        failures: list[str] = []
        busy: list[int] = []
        budget = threading.Semaphore(max_submissions)
        with running_server(db, startup_timeout_s=300, extra_args=("--workers", str(workers))) as server:
            deadline = time.monotonic() + max_seconds

            def client(token: str) -> None:
                with httpx.Client(base_url=server.url, timeout=120) as http:
                    while time.monotonic() < deadline and budget.acquire(blocking=False):
                        start = time.perf_counter()
                        try:
                            reply = http.post(
                                "/api/submissions",
                                headers={"Authorization": f"Bearer {token}"},
                                files={"file": ("result.npy", payload)},
                            )
                        except httpx.HTTPError as err:
                            failures.append(type(err).__name__)
                            continue
                        if reply.status_code == 503:  # busy: retried, as keraslab challenge submit does
                            busy.append(1)
                            budget.release()
                            time.sleep(float(reply.headers.get("Retry-After", 1)))
                            continue
                        latencies.append(time.perf_counter() - start)
                        if reply.status_code == 201:
                            acknowledged.append(reply.json()["id"])
                        else:
                            failures.append(str(reply.status_code))

            threads = [threading.Thread(target=client, args=(token,)) for token in tokens]
            began = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - began
        _, submissions = store.all_teams_and_submissions(engine)
        engine.dispose()
    stored_ids = {s.id for s in submissions}
    return {
        "backend": backend,
        "workers": workers,
        "clients": n_clients,
        "busy_503": len(busy),
        "acknowledged": len(acknowledged),
        "stored": len(stored_ids),
        "acknowledged_missing": len(set(acknowledged) - stored_ids),
        "failures": len(failures),
        "seconds": elapsed,
        "per_second": len(acknowledged) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p95_ms": 1000 * float(np.percentile(latencies, 95)) if latencies else float("nan"),
    }


def time_scoring(n_jets: int, repeats: int = 20) -> list[tuple[str, float]]:
    """Median milliseconds of each step of scoring one submission of ``n_jets`` jets."""
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, n_jets)
    scores = (0.5 + 0.1 * (labels - 0.5) + 0.1 * rng.normal(size=n_jets)).astype(np.float32)
    public_mask = rng.random(n_jets) < 0.5
    data = npy_bytes(scores)

    def median_ms(step) -> float:
        step()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        return 1000 * statistics.median(times)

    read = read_submission(data, n_jets)
    return [
        ("read_submission (validate .npy)", median_ms(lambda: read_submission(data, n_jets))),
        ("scoring.score, all jets", median_ms(lambda: score(labels, read))),
        ("metrics.classifier_summary, all jets (scikit-learn)", median_ms(lambda: classifier_summary(labels, read))),
        ("public + private scores (what an upload costs)", median_ms(lambda: public_and_private(labels, public_mask, read))),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="server processes for PostgreSQL runs")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients, one team each")
    parser.add_argument("--submissions", type=int, default=300, help="stop after this many uploads in all")
    parser.add_argument("--max-seconds", type=float, default=60, help="stop starting uploads after this long")
    parser.add_argument("--jets", type=int, default=100_000, help="jets in the challenge file")
    parser.add_argument("--scoring", action="store_true", help="also time the scoring of one submission")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "postgresql" in backends and find_postgres_bin() is None:
        message = f"error: --backend {args.backend} needs a PostgreSQL server: {POSTGRES_INSTALL}; or use --backend sqlite"
        print(message, file=sys.stderr)
        raise SystemExit(2)

    if args.scoring:
        print(f"\nScoring one {args.jets}-jet submission (median of 20):")
        print(f"{'step':<55} {'ms':>8}")
        for name, ms in time_scoring(args.jets):
            print(f"{name:<55} {ms:8.1f}")

    runs = [(b, w) for b in backends for w in (args.workers if b == "postgresql" else [1])]
    rows = [load_run(b, w, args.clients, args.submissions, args.max_seconds, args.jets) for b, w in runs]
    print(f"\nLoad: {args.clients} concurrent clients, {args.jets}-jet float32 uploads, loopback")
    header = (
        f"{'backend':<11}{'workers':>8}{'acked':>7}{'stored':>8}{'lost':>6}{'failed':>8}{'503':>6}"
        f"{'seconds':>9}{'uploads/s':>11}{'p50 ms':>9}{'p95 ms':>9}"
    )
    print(header)
    for row in rows:
        print(
            f"{row['backend']:<11}{row['workers']:>8}{row['acknowledged']:>7}{row['stored']:>8}{row['acknowledged_missing']:>6}"
            f"{row['failures']:>8}{row['busy_503']:>6}{row['seconds']:>9.1f}{row['per_second']:>11.1f}"
            f"{row['p50_ms']:>9.0f}{row['p95_ms']:>9.0f}"
        )
    if any(row["acknowledged"] != row["stored"] or row["acknowledged_missing"] for row in rows):
        raise SystemExit("acknowledged and stored submissions differ")


if __name__ == "__main__":
    main()
