"""The challenge server against hostile clients, on real sockets: refusal before reading, slow clients, uploads in flight.

``running_server`` is ``keraslab challenge serve`` itself (its default limits);
``guarded_server`` runs the same protocol and app with short limits, so that a
test waits a second for a deadline instead of ten. No assertion is on a duration:
a deadline that does not act shows as a socket that stays open (a timeout error).
"""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from challenge_servers import (
    add_teams,
    bearer,
    guarded_server,
    make_challenge,
    multipart_file,
    npy_bytes,
    raw_upload_head,
    read_until_closed,
    stored_submission_count,
    tagger_scores,
    upload,
)
from local_services import LOOPBACK, running_server

from keraslab.challenge.guard import Limits

QUICK = Limits(header_timeout_s=1.0, body_timeout_s=3.0, min_body_bytes_per_s=4096, rate_grace_s=1.0, uploads_in_flight=1)


@pytest.fixture
def challenge(tmp_path):
    db = str(tmp_path / "challenge.db")
    labels = make_challenge(db, daily_limit=10)
    return db, labels, add_teams(db, "Alpha", "Beta")


def connect(url: str) -> socket.socket:
    return socket.create_connection((LOOPBACK, int(url.rsplit(":", 1)[1])), timeout=15)


def test_an_upload_without_a_valid_token_is_refused_before_its_body(challenge):
    """keraslab challenge serve alone: a 20 MiB upload announced, not one body byte sent, and the 401 comes."""
    db, labels, _ = challenge
    with running_server(db) as server:
        port = int(server.url.rsplit(":", 1)[1])
        for token in (None, "not-a-token"):
            with connect(server.url) as sock:
                sock.sendall(raw_upload_head(port, 20 * 2**20, token))
                answer = read_until_closed(sock)  # the server answers, then closes: nothing was read or spooled
            assert answer.startswith(b"HTTP/1.1 401 ") and b"token" in answer and b"connection: close" in answer.lower()

            # a client that sends its whole body anyway still reads the 401, not a reset (lingering close)
            body = multipart_file(npy_bytes(tagger_scores(labels, 1.0)) + bytes(2 * 2**20))
            with connect(server.url) as sock:
                sock.sendall(raw_upload_head(port, len(body), token) + body)
                assert read_until_closed(sock).startswith(b"HTTP/1.1 401 ")
    assert stored_submission_count(db) == 0


def test_slow_headers_are_cut_off_and_do_not_block_others(challenge):
    """The attack of the issue: many connections that never finish their headers or their body, no token."""
    db, labels, tokens = challenge
    with guarded_server(db, QUICK) as url:
        port = int(url.rsplit(":", 1)[1])
        slow_headers = [connect(url) for _ in range(100)]
        for sock in slow_headers:
            sock.sendall(b"POST /api/submissions HTTP/1.1\r\nHost: x\r\n")  # and never the rest
        half_bodies = [connect(url) for _ in range(100)]
        for sock in half_bodies:
            sock.sendall(raw_upload_head(port, 20 * 2**20) + bytes(64 * 1024))
        reply = httpx.post(url + "/api/submissions", headers=bearer(tokens["Alpha"]), files=upload(npy_bytes(tagger_scores(labels, 1.0))))
        assert reply.status_code == 201  # served while the 200 connections are held
        with ThreadPoolExecutor(8) as pool:
            header_answers = list(pool.map(read_until_closed, slow_headers))
            body_answers = list(pool.map(read_until_closed, half_bodies))
        assert header_answers == [b""] * 100  # closed at the header deadline, without an answer
        assert all(answer.startswith(b"HTTP/1.1 401 ") for answer in body_answers)
        for sock in slow_headers + half_bodies:
            sock.close()

        # a drip of header bytes does not keep a connection open either
        with connect(url) as sock, pytest.raises(OSError):
            for byte in b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200:
                sock.sendall(bytes([byte]))
                time.sleep(0.1)
                sock.setblocking(False)
                try:
                    if sock.recv(1) == b"":
                        raise ConnectionResetError("closed by the server")
                except BlockingIOError:
                    pass
                finally:
                    sock.setblocking(True)
    assert stored_submission_count(db) == 1


def test_a_slow_upload_body_is_cut_off(challenge):
    db, labels, tokens = challenge
    body = multipart_file(npy_bytes(tagger_scores(labels, 1.0)))
    with guarded_server(db, QUICK) as url:
        port = int(url.rsplit(":", 1)[1])
        with connect(url) as sock:
            sock.sendall(raw_upload_head(port, len(body), tokens["Alpha"]))
            for offset in range(0, 40, 10):  # 20 bytes/s for 2 s, far below the minimum rate
                sock.sendall(body[offset : offset + 10])
                time.sleep(0.5)
            answer = read_until_closed(sock)
        assert answer.startswith(b"HTTP/1.1 408 ") and b"too slowly" in answer
    assert stored_submission_count(db) == 0


def test_uploads_in_flight_are_bounded(challenge):
    """With room for one upload, a second team gets 503 + Retry-After while the first is being read."""
    db, labels, tokens = challenge
    body = multipart_file(npy_bytes(tagger_scores(labels, 1.0)))
    with guarded_server(db, QUICK) as url:
        port = int(url.rsplit(":", 1)[1])
        with connect(url) as holder:
            holder.sendall(raw_upload_head(port, len(body), tokens["Alpha"]) + body[:5000])  # in flight: being read
            time.sleep(0.3)
            busy = httpx.post(url + "/api/submissions", headers=bearer(tokens["Beta"]), files=upload(npy_bytes(tagger_scores(labels, 2.0))))
            holder.sendall(body[5000:])
            holder.settimeout(15)
            first = holder.recv(65536)
        assert busy.status_code == 503 and int(busy.headers["retry-after"]) > 0
        assert first.startswith(b"HTTP/1.1 201 ")
        again = httpx.post(url + "/api/submissions", headers=bearer(tokens["Beta"]), files=upload(npy_bytes(tagger_scores(labels, 2.0))))
        assert again.status_code == 201  # the slot is free again
    assert stored_submission_count(db) == 2
