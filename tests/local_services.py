"""Throwaway services on the loopback interface, for the tests and the load benchmark.

:func:`temporary_postgres` runs a private PostgreSQL server (found by
``system_services``) in a temporary folder on a free port; :func:`running_server`
runs ``keraslab challenge serve`` in a subprocess. Both stop and clean up what
they started. Nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def temporary_postgres(bin_dir: Path, fsync: bool = False) -> Iterator[str]:
    """Run a private PostgreSQL server from the programs in ``bin_dir``; yield the URL of its ``postgres`` database.

    PostgreSQL refuses to run as root, so under root it runs as the ``postgres``
    system user (created by the Debian package). ``fsync=False`` is for tests,
    where only the challenge server is ever killed, never the database.
    """
    as_user = "postgres" if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="keraslab-pg-"))
    data = folder / "data"
    if as_user:
        entry = pwd.getpwnam(as_user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    port = free_port()
    run = {"user": as_user, "check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "cwd": folder}
    subprocess.run([bin_dir / "initdb", "-D", data, "-U", "postgres", "-A", "trust", "--no-sync"], **run)
    options = f"-h {LOOPBACK} -p {port} -k {folder} -c max_connections=200" + ("" if fsync else " -F")
    try:
        subprocess.run([bin_dir / "pg_ctl", "-D", data, "-o", options, "-l", folder / "log", "-w", "start"], **run)
        yield f"postgresql://postgres@{LOOPBACK}:{port}/postgres"
    finally:
        subprocess.run([bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"], **{**run, "check": False})
        shutil.rmtree(folder, ignore_errors=True)


def create_database(admin_url: str, name: str) -> str:
    """Create database ``name`` on the server of ``admin_url``; return its URL."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


@dataclass
class ServerProcess:
    url: str  # http://127.0.0.1:PORT
    process: subprocess.Popen

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs (the crash the reliability test simulates)."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@contextlib.contextmanager
def running_server(db: str, startup_timeout_s: float = 60.0, extra_args: tuple[str, ...] = ()) -> Iterator[ServerProcess]:
    """Run ``keraslab challenge serve --db DB [EXTRA_ARGS]`` on a free loopback port until the block ends."""
    port = free_port()
    command = [sys.executable, "-m", "keraslab.cli", "challenge", "serve", "--db", db, "--host", LOOPBACK, "--port", str(port), *extra_args]
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    server = ServerProcess(f"http://{LOOPBACK}:{port}", process)
    try:
        deadline = time.monotonic() + startup_timeout_s
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"the challenge server exited with {process.returncode}: {log.read().decode()[-2000:]}")
            try:
                if httpx.get(server.url + "/api/leaderboard", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the challenge server did not answer within {startup_timeout_s} s")
            time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
