"""Helpers for the challenge tests: a small challenge, teams, submissions of known quality."""

from __future__ import annotations

import contextlib
import io
import threading
import time
import zipfile
from collections.abc import Iterator

import numpy as np
from local_services import LOOPBACK, free_port

from keraslab.challenge import store
from keraslab.challenge.db import make_engine

N_JETS = 2000


def make_challenge(db: str, daily_limit: int = 5, n_jets: int = N_JETS, seed: int = 0) -> np.ndarray:
    """Create a challenge in ``db`` with random labels; return the labels."""
    labels = np.random.default_rng(seed).integers(0, 2, n_jets).astype(np.int8)
    store.create_challenge(make_engine(db), labels, public_fraction=0.5, daily_limit=daily_limit, closes_at=None)
    return labels


def add_teams(db: str, *names: str) -> dict[str, str]:
    """Register teams; return name -> token."""
    engine = make_engine(db)
    return {name: store.add_team(engine, name) for name in names}


def tagger_scores(labels: np.ndarray, separation: float, seed: int = 1) -> np.ndarray:
    """float32 scores whose AUC grows with ``separation`` (0: random guessing)."""
    noise = np.random.default_rng(seed).normal(size=len(labels))
    return (0.5 + 0.1 * separation * (labels - 0.5) + 0.1 * noise).astype(np.float32)


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def upload(data: bytes, name: str = "result.npy") -> dict:
    return {"file": (name, data, "application/octet-stream")}


def stored_submission_count(db: str) -> int:
    teams, submissions = store.all_teams_and_submissions(make_engine(db))
    return len(submissions)


@contextlib.contextmanager
def guarded_server(db: str, limits) -> Iterator[str]:
    """The challenge app under uvicorn with the guarded protocol and ``limits``, in a thread; yields its URL.

    What ``keraslab challenge serve`` runs (keraslab.challenge.server.serve), with limits a test can wait for.
    """
    import uvicorn

    from keraslab.challenge.guard import uvicorn_settings
    from keraslab.challenge.server import create_app

    port = free_port()
    config = uvicorn.Config(create_app(db, limits=limits), host=LOOPBACK, port=port, log_level="warning", **uvicorn_settings(limits))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the guarded challenge server did not start")
        time.sleep(0.05)
    try:
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def raw_upload_head(port: int, content_length: int, token: str | None = None, boundary: str = "b0undary") -> bytes:
    """Request line and headers of a multipart upload, for tests that write the body themselves."""
    lines = [
        "POST /api/submissions HTTP/1.1",
        f"Host: {LOOPBACK}:{port}",
        f"Content-Type: multipart/form-data; boundary={boundary}",
        f"Content-Length: {content_length}",
    ]
    if token is not None:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def multipart_file(data: bytes, boundary: str = "b0undary") -> bytes:
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="result.npy"\r\n\r\n'.encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode()


def read_until_closed(sock, limit_s: float = 15.0) -> bytes:
    """Everything the server sends until it closes the connection (a reset counts as closed)."""
    sock.settimeout(limit_s)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received
