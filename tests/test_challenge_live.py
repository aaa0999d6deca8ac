"""The challenge server as a real process (uvicorn), on SQLite and on a real PostgreSQL server.

Without a PostgreSQL server installed the PostgreSQL variants skip (``system_services``).

Concurrent uploads race for the daily limit; SIGKILL under load must lose no
acknowledged submission; the command line talks to the server over HTTP.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
import system_services
from challenge_servers import (
    add_teams,
    bearer,
    make_challenge,
    npy_bytes,
    tagger_scores,
    upload,
)
from local_services import create_database, running_server, temporary_postgres

from keraslab.challenge import store
from keraslab.challenge.db import make_engine


@pytest.fixture(scope="module")
def postgres_admin_url():
    with temporary_postgres(system_services.postgres_bin()) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """An empty challenge database on each back end."""
    if request.param == "sqlite":
        return str(tmp_path / "challenge.db")
    admin = request.getfixturevalue("postgres_admin_url")
    return create_database(admin, f"challenge_{uuid.uuid4().hex[:12]}")


def test_daily_limit_holds_under_concurrent_uploads(db):
    labels = make_challenge(db, daily_limit=5)
    token = add_teams(db, "Racers")["Racers"]
    data = npy_bytes(tagger_scores(labels, 1.0))
    n_clients = 16
    start = threading.Barrier(n_clients)

    with running_server(db) as server:

        def one_upload(_):
            with httpx.Client(base_url=server.url, timeout=60) as client:
                start.wait()  # all at once
                while True:  # a team has at most 2 uploads in progress: the others come back at once
                    reply = client.post("/api/submissions", headers=bearer(token), files=upload(data))
                    if "in progress" not in reply.text:
                        return reply.status_code
                    time.sleep(0.05)

        with ThreadPoolExecutor(n_clients) as pool:
            codes = sorted(pool.map(one_upload, range(n_clients)))
        stored = httpx.get(server.url + "/api/submissions", headers=bearer(token)).json()
    assert codes == [201] * 5 + [429] * (n_clients - 5)
    assert len(stored) == 5 and sorted(s["submissions_today"] for s in stored) == [5] * 5


def test_sigkill_under_load_loses_no_acknowledged_submission(db):
    labels = make_challenge(db, daily_limit=10_000)
    tokens = add_teams(db, *(f"team{i}" for i in range(6)))
    data = npy_bytes(tagger_scores(labels, 1.0))
    acknowledged: dict[str, list[int]] = {name: [] for name in tokens}

    with running_server(db) as server:

        def keep_submitting(name):
            with httpx.Client(base_url=server.url, timeout=30) as client:
                while True:
                    try:
                        reply = client.post("/api/submissions", headers=bearer(tokens[name]), files=upload(data))
                    except httpx.HTTPError:
                        return  # the server is gone
                    assert reply.status_code == 201, reply.text
                    acknowledged[name].append(reply.json()["id"])

        workers = [threading.Thread(target=keep_submitting, args=(name,)) for name in tokens]
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + 20
        while sum(map(len, acknowledged.values())) < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()  # SIGKILL while uploads are in flight
        for worker in workers:
            worker.join(timeout=30)
    n_acknowledged = sum(map(len, acknowledged.values()))
    assert n_acknowledged >= 30

    if not db.startswith("postgresql"):
        with sqlite3.connect(db) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with running_server(db) as server:
        for name, token in tokens.items():
            stored = httpx.get(server.url + "/api/submissions", headers=bearer(token)).json()
            stored_ids = {s["id"] for s in stored}
            assert set(acknowledged[name]) <= stored_ids  # nothing acknowledged is lost
            assert all(0 < s["public"]["auc"] < 1 for s in stored)  # nothing half-written
        after = httpx.post(server.url + "/api/submissions", headers=bearer(tokens["team0"]), files=upload(data))
        assert after.status_code == 201


def keraslab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "keraslab.cli", *args], capture_output=True, text=True, timeout=120)


def test_command_line_round_trip(tmp_path):
    labels = np.random.default_rng(3).integers(0, 2, 1000).astype(np.int8)
    (tmp_path / "hidden").mkdir()
    np.save(tmp_path / "hidden" / "challenge_labels.npy", labels)  # the layout keraslab toptag generate writes
    db = str(tmp_path / "class.db")
    created = keraslab("challenge", "init", "--truth", str(tmp_path), "--db", db, "--daily-limit", "3")
    assert created.returncode == 0, created.stderr
    assert "1000 jets, 500 public / 500 private" in created.stdout
    added = keraslab("challenge", "team", "add", "Top Guns", "--db", db)
    token = added.stdout.strip().splitlines()[-1]
    assert added.returncode == 0 and len(token) >= 40
    result = tmp_path / "result.npy"
    np.save(result, tagger_scores(labels, 2.0))
    with running_server(db) as server:
        submitted = keraslab("challenge", "submit", str(result), "--server", server.url, "--token", token)
        assert submitted.returncode == 0, submitted.stderr
        assert "submission 1 accepted for team Top Guns: public AUC 0." in submitted.stdout
        assert "(1 of 3 today)" in submitted.stdout
        refused = keraslab("challenge", "submit", str(tmp_path / "hidden" / "challenge_labels.npy"), "--server", server.url, "--token", "wrong")
        assert refused.returncode == 2 and refused.stderr.strip() == (
            "error: the server refused (401): unknown token; use the token your tutor gave your team"
        )
        selected = keraslab("challenge", "select", "1", "--server", server.url, "--token", token)
        assert selected.returncode == 0 and "submission 1 now counts for team Top Guns" in selected.stdout
        board = httpx.get(server.url + "/api/leaderboard").json()
        assert board["entries"][0]["team"] == "Top Guns" and board["entries"][0]["submissions"] == 1


def test_nothing_is_acknowledged_after_the_close(db):
    """Six teams upload without pause past the closing time: every 201 is stored and reaches its client before the close."""
    labels = make_challenge(db, daily_limit=10_000)
    tokens = add_teams(db, *(f"team{i}" for i in range(6)))
    data = npy_bytes(tagger_scores(labels, 1.0))
    acknowledged: list[int] = []
    received_at: list[float] = []  # when each 201 reached the client
    last_codes: dict[str, int] = {}

    with running_server(db) as server:

        def keep_submitting(name):
            with httpx.Client(base_url=server.url, timeout=60) as client:
                while True:
                    reply = client.post("/api/submissions", headers=bearer(tokens[name]), files=upload(data))
                    if reply.status_code != 201:
                        last_codes[name] = reply.status_code
                        return
                    acknowledged.append(reply.json()["id"])
                    received_at.append(time.time())

        workers = [threading.Thread(target=keep_submitting, args=(name,)) for name in tokens]
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 20 and time.monotonic() < deadline:
            time.sleep(0.02)
        closing = store.set_close(make_engine(db), store.utc_now() + dt.timedelta(seconds=2))  # while uploads are in flight
        for worker in workers:
            worker.join(timeout=60)
    _, stored = store.all_teams_and_submissions(make_engine(db))
    assert len(acknowledged) >= 20 and last_codes == {name: 403 for name in tokens}
    assert sorted(acknowledged) == sorted(s.id for s in stored)  # acknowledged = stored
    assert max(s.submitted_at for s in stored) < closing - store.ANSWER_MARGIN
    assert max(received_at) < closing.replace(tzinfo=dt.UTC).timestamp()  # every answer came before the close


def test_two_workers_on_postgresql_share_the_daily_limit(request, tmp_path):
    admin = request.getfixturevalue("postgres_admin_url")
    db = create_database(admin, f"challenge_{uuid.uuid4().hex[:12]}")
    labels = make_challenge(db, daily_limit=5)
    token = add_teams(db, "Racers")["Racers"]
    n_clients = 12
    start = threading.Barrier(n_clients)

    with running_server(db, startup_timeout_s=180, extra_args=("--workers", "2")) as server:  # two interpreters start

        def one_upload(i):
            with httpx.Client(base_url=server.url, timeout=60) as client:
                start.wait()
                while True:  # each process lets a team have 2 uploads in progress
                    files = upload(npy_bytes(tagger_scores(labels, 1.0, seed=i)))
                    reply = client.post("/api/submissions", headers=bearer(token), files=files)
                    if "in progress" not in reply.text:
                        return reply.status_code
                    time.sleep(0.05)

        with ThreadPoolExecutor(n_clients) as pool:
            codes = sorted(pool.map(one_upload, range(n_clients)))
        workers = [pid for pid in child_pids(server.process.pid) if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()]
    assert codes == [201] * 5 + [429] * (n_clients - 5)
    assert len(workers) >= 2  # uvicorn's worker processes (and perhaps multiprocessing's resource tracker)


def child_pids(parent: int) -> list[int]:
    """Processes whose parent is ``parent`` (Linux /proc)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            children.append(int(stat.parent.name))
    return children
