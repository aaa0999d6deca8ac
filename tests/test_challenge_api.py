"""The challenge API in-process (FastAPI's TestClient on a SQLite file): scoring, security, validation."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import time

import numpy as np
import pytest
from challenge_servers import (
    add_teams,
    bearer,
    make_challenge,
    npy_bytes,
    stored_submission_count,
    tagger_scores,
    upload,
    zip_bytes,
)
from fastapi.testclient import TestClient

from keraslab.challenge import store
from keraslab.challenge.db import make_engine
from keraslab.challenge.scoring import score
from keraslab.challenge.server import create_app
from keraslab.challenge.submission import MAX_UPLOAD_BYTES


@pytest.fixture
def challenge(tmp_path):
    """A challenge with two teams; yields (client, db, labels, tokens)."""
    db = str(tmp_path / "challenge.db")
    labels = make_challenge(db, daily_limit=4)
    tokens = add_teams(db, "Quarks", "<b>Gluons</b>")
    with TestClient(create_app(db)) as client:
        yield client, db, labels, tokens


def test_submission_gets_its_public_score_and_nothing_private(challenge):
    client, db, labels, tokens = challenge
    scores = tagger_scores(labels, separation=2.0)
    reply = client.post("/api/submissions", headers=bearer(tokens["Quarks"]), files=upload(npy_bytes(scores)))
    assert reply.status_code == 201, reply.text
    body = reply.json()
    public_mask = store.load_truth(make_engine(db)).public_mask
    expected = score(labels[public_mask], scores[public_mask].astype(np.float64))
    assert body["public"]["auc"] == round(expected.auc, 3)  # served rounded to 3 decimals before the close
    assert body["public"]["accuracy"] == round(expected.accuracy, 3)
    assert "rejection_at_30" not in body["public"]  # it would leak single labels
    assert 0.7 < body["public"]["auc"] < 1.0
    assert body["team"] == "Quarks" and body["submissions_today"] == 1 and body["daily_limit"] == 4
    assert "private" not in body
    board = client.get("/api/leaderboard").json()
    assert board["closed"] is False and "private" not in str(board)
    assert [(e["rank"], e["team"]) for e in board["entries"]] == [(1, "Quarks"), (None, "<b>Gluons</b>")]
    assert stored_submission_count(db) == 1


def test_zip_submission_scores_like_the_npy(challenge):
    client, _, labels, tokens = challenge
    data = npy_bytes(tagger_scores(labels, separation=1.0))
    as_npy = client.post("/api/submissions", headers=bearer(tokens["Quarks"]), files=upload(data)).json()
    zipped = upload(zip_bytes({"result.npy": data}), name="result.zip")
    as_zip = client.post("/api/submissions", headers=bearer(tokens["Quarks"]), files=zipped).json()
    assert as_zip["public"] == as_npy["public"] and as_zip["id"] != as_npy["id"]


@pytest.mark.parametrize(
    "headers, reason",
    [({}, "no token"), (bearer("not-a-token"), "unknown token"), ({"Authorization": "Basic dXNlcjpwdw=="}, "no token")],
)
def test_no_or_wrong_token_is_401_and_stores_nothing(challenge, headers, reason):
    client, db, labels, _ = challenge
    reply = client.post("/api/submissions", headers=headers, files=upload(npy_bytes(labels.astype(np.float32))))
    assert reply.status_code == 401 and reason in reply.json()["detail"]
    assert reply.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/submissions", headers=headers).status_code == 401
    assert stored_submission_count(db) == 0


BAD_UPLOADS = {
    "wrong length": (lambda labels: npy_bytes(labels[:-1].astype(np.float32)), "1999 scores"),
    "text": (lambda labels: npy_bytes(labels.astype(str)), "not a real number type"),
    "nan": (lambda labels: npy_bytes(np.full(len(labels), np.nan)), "NaN or infinite"),
    "rank 2": (lambda labels: npy_bytes(np.zeros((len(labels), 2))), "must be 1-D"),
    "csv": (lambda labels: b"0.5\n" * len(labels), "neither a .npy nor a .zip"),
    "two files in the zip": (
        lambda labels: zip_bytes({"result.npy": npy_bytes(labels * 1.0), "model.h5": b"x"}),
        "exactly one",
    ),
    "nested path": (lambda labels: zip_bytes({"out/result.npy": npy_bytes(labels * 1.0)}), "inside a folder"),
    "zip bomb": (lambda labels: zip_bytes({"result.npy": bytes(MAX_UPLOAD_BYTES + 1)}), "inflates to"),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_bad_upload_is_422_with_one_line_reason_and_nothing_stored(challenge, case):
    client, db, labels, tokens = challenge
    make, reason = BAD_UPLOADS[case]
    reply = client.post("/api/submissions", headers=bearer(tokens["Quarks"]), files=upload(make(labels)))
    assert reply.status_code == 422
    detail = reply.json()["detail"]
    assert reason in detail and "\n" not in detail
    assert stored_submission_count(db) == 0


def test_missing_file_field_is_a_one_line_422(challenge):
    client, db, _, tokens = challenge
    reply = client.post("/api/submissions", headers=bearer(tokens["Quarks"]), data={"notes": "hi"})
    assert reply.status_code == 422 and "file" in reply.json()["detail"] and "-F file=@" in reply.json()["detail"]


def test_oversize_upload_is_413_before_it_is_read(challenge):
    client, db, _, tokens = challenge
    too_big = bytes(MAX_UPLOAD_BYTES + 100 * 1024)
    reply = client.post("/api/submissions", headers=bearer(tokens["Quarks"]), files=upload(too_big))
    assert reply.status_code == 413 and "20 MiB" in reply.json()["detail"]

    def chunks():  # no Content-Length: the body is counted as it streams in
        for _ in range(22):
            yield bytes(2**20)

    headers = {**bearer(tokens["Quarks"]), "Content-Type": "multipart/form-data; boundary=xyz"}
    reply = client.post("/api/submissions", headers=headers, content=chunks())
    assert reply.status_code == 413
    assert stored_submission_count(db) == 0


def test_daily_limit(challenge):
    client, db, labels, tokens = challenge
    data = npy_bytes(tagger_scores(labels, 1.0))
    codes = [client.post("/api/submissions", headers=bearer(tokens["Quarks"]), files=upload(data)).status_code for _ in range(6)]
    assert codes == [201, 201, 201, 201, 429, 429]
    other = client.post("/api/submissions", headers=bearer(tokens["<b>Gluons</b>"]), files=upload(data))
    assert other.status_code == 201  # the limit is per team
    assert stored_submission_count(db) == 5


def test_teams_see_only_their_own_submissions(challenge):
    client, _, labels, tokens = challenge
    quarks, gluons = bearer(tokens["Quarks"]), bearer(tokens["<b>Gluons</b>"])
    theirs = client.post("/api/submissions", headers=quarks, files=upload(npy_bytes(tagger_scores(labels, 1.0)))).json()
    client.post("/api/submissions", headers=gluons, files=upload(npy_bytes(tagger_scores(labels, 0.5))))
    own = client.get("/api/submissions", headers=gluons).json()
    assert len(own) == 1 and own[0]["team"] == "<b>Gluons</b>" and own[0]["id"] != theirs["id"]
    refused = client.post(f"/api/submissions/{theirs['id']}/select", headers=gluons)
    assert refused.status_code == 404  # another team's submission looks like no submission


def test_nothing_serves_labels_or_split(challenge):
    client, _, labels, _ = challenge
    paths = set(client.get("/openapi.json").json()["paths"])
    assert paths == {"/api/submissions", "/api/submissions/{submission_id}/select", "/api/leaderboard", "/"}
    docs = client.get("/docs")
    assert docs.status_code == 200 and "cdn" not in docs.text  # works in an offline class room
    script = re.search(r'src="([^"]*swagger-ui-bundle\.js)"', docs.text).group(1)
    assert client.get(script).status_code == 200
    for path in ("/api/labels", "/api/truth", "/api/split", "/challenge.db"):
        assert client.get(path).status_code == 404
    board = client.get("/api/leaderboard").json()
    assert set(board) == {"closed", "closes_at", "n_jets", "public_fraction", "daily_limit", "entries"}


def test_page_escapes_team_names_and_refreshes_itself(challenge):
    client, _, labels, tokens = challenge
    client.post("/api/submissions", headers=bearer(tokens["<b>Gluons</b>"]), files=upload(npy_bytes(tagger_scores(labels, 1.0))))
    html = client.get("/").text
    assert "&lt;b&gt;Gluons&lt;/b&gt;" in html and "<b>Gluons" not in html
    assert '<meta http-equiv="refresh"' in html and "<script" not in html


def test_after_the_close_private_scores_and_final_ranking(challenge):
    client, db, labels, tokens = challenge
    quarks, gluons = bearer(tokens["Quarks"]), bearer(tokens["<b>Gluons</b>"])
    weak = client.post("/api/submissions", headers=quarks, files=upload(npy_bytes(tagger_scores(labels, 0.8)))).json()
    strong = client.post("/api/submissions", headers=quarks, files=upload(npy_bytes(tagger_scores(labels, 3.0)))).json()
    middle = client.post("/api/submissions", headers=gluons, files=upload(npy_bytes(tagger_scores(labels, 1.5)))).json()
    assert client.post(f"/api/submissions/{weak['id']}/select", headers=quarks).json()["selected"] is True
    open_board = client.get("/api/leaderboard").json()["entries"]
    assert [e["team"] for e in open_board] == ["Quarks", "<b>Gluons</b>"]  # Quarks' best public is its strong one

    store.set_close(make_engine(db))
    board = client.get("/api/leaderboard").json()
    assert board["closed"] is True
    final = board["entries"]
    # Quarks chose its weak submission, so Gluons wins the private ranking
    assert [(e["rank"], e["team"], e["counted_submission_id"]) for e in final] == [
        (1, "<b>Gluons</b>", middle["id"]),
        (2, "Quarks", weak["id"]),
    ]
    assert final[1]["selected_by_team"] is True and final[0]["selected_by_team"] is False
    assert final[0]["private"]["auc"] > final[1]["private"]["auc"]
    own = client.get("/api/submissions", headers=quarks).json()
    assert {s["id"] for s in own} == {weak["id"], strong["id"]} and all("private" in s for s in own)
    assert "Final ranking" in client.get("/").text

    late = client.post("/api/submissions", headers=quarks, files=upload(npy_bytes(tagger_scores(labels, 3.0))))
    assert late.status_code == 403 and "closed" in late.json()["detail"]
    assert client.post(f"/api/submissions/{strong['id']}/select", headers=quarks).status_code == 403
    assert stored_submission_count(db) == 3


def multipart(*parts: tuple[str, bytes]) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body with the given (field name, content) parts, written by hand."""
    boundary = "keraslab-test-boundary"
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="result.npy"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
        for name, content in parts
    )
    return body + f"--{boundary}--\r\n".encode(), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def test_two_file_parts_are_refused(challenge):
    client, db, labels, tokens = challenge
    data = npy_bytes(tagger_scores(labels, 1.0))
    body, headers = multipart(("file", data), ("file", data))
    reply = client.post("/api/submissions", headers={**bearer(tokens["Quarks"]), **headers}, content=body)
    assert reply.status_code == 422 and "two file parts" in reply.json()["detail"]
    body, headers = multipart(("notes", b"hello"), ("file", data))  # another field beside it is fine
    assert client.post("/api/submissions", headers={**bearer(tokens["Quarks"]), **headers}, content=body).status_code == 201
    assert stored_submission_count(db) == 1


def test_a_repeated_idempotency_key_gets_the_first_answer_and_no_slot(challenge):
    client, db, labels, tokens = challenge
    first_file, other_file = npy_bytes(tagger_scores(labels, 1.0)), npy_bytes(tagger_scores(labels, 2.0))
    headers = {**bearer(tokens["Quarks"]), "Idempotency-Key": "retry-0001"}
    first = client.post("/api/submissions", headers=headers, files=upload(first_file))
    again = client.post("/api/submissions", headers=headers, files=upload(other_file))  # the key decides, not the file
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    other_team = client.post(
        "/api/submissions", headers={**bearer(tokens["<b>Gluons</b>"]), "Idempotency-Key": "retry-0001"}, files=upload(first_file)
    )
    assert other_team.status_code == 201  # keys are per team
    new_key = client.post("/api/submissions", headers={**headers, "Idempotency-Key": "retry-0002"}, files=upload(first_file))
    assert new_key.status_code == 201 and new_key.json()["submissions_today"] == 2
    assert stored_submission_count(db) == 3
    bad_key = client.post("/api/submissions", headers={**headers, "Idempotency-Key": "a b"}, files=upload(first_file))
    assert bad_key.status_code == 422 and "Idempotency-Key" in bad_key.json()["detail"]


def test_over_the_limit_closed_or_replayed_uploads_are_answered_before_the_body_is_read(challenge, monkeypatch):
    """The body here is not even multipart: a 429, a 403 or a replay is decided without reading it."""
    client, db, labels, tokens = challenge
    quarks = bearer(tokens["Quarks"])
    for separation in (1.0, 1.5, 2.0, 2.5):  # the daily limit is 4
        headers = {**quarks, "Idempotency-Key": f"upload-{separation}"}
        assert client.post("/api/submissions", headers=headers, files=upload(npy_bytes(tagger_scores(labels, separation)))).status_code == 201
    scored = []
    monkeypatch.setattr("keraslab.challenge.server.read_submission", lambda *args: scored.append(args))
    garbage = {"content": b"x" * 100_000, "headers": {**quarks, "Content-Type": "text/plain"}}
    over = client.post("/api/submissions", **garbage)
    assert over.status_code == 429 and "used its 4 submissions" in over.json()["detail"]
    replay = client.post("/api/submissions", content=garbage["content"], headers={**garbage["headers"], "Idempotency-Key": "upload-1.0"})
    assert replay.status_code == 200 and replay.json()["submissions_today"] == 4
    store.set_close(make_engine(db))
    closed = client.post("/api/submissions", **garbage)
    assert closed.status_code == 403
    assert scored == [] and stored_submission_count(db) == 4


def test_an_upload_scored_past_the_close_is_refused_and_not_stored(challenge, monkeypatch):
    """The close passes while the upload is being scored: the check inside the recording transaction refuses it."""
    client, db, labels, tokens = challenge
    from keraslab.challenge import server

    store.set_close(make_engine(db), store.utc_now() + dt.timedelta(seconds=1))
    real_scoring = server.public_and_private

    def slow_scoring(*args):
        time.sleep(1.5)  # the upload passed the check before reading; the close comes now
        return real_scoring(*args)

    monkeypatch.setattr(server, "public_and_private", slow_scoring)
    reply = client.post("/api/submissions", headers=bearer(tokens["Quarks"]), files=upload(npy_bytes(tagger_scores(labels, 1.0))))
    assert reply.status_code == 403 and "closed" in reply.json()["detail"]
    assert stored_submission_count(db) == 0


@pytest.mark.parametrize("submission_id", [2**63, 2**31, 10**30, 0, -1])
def test_an_out_of_range_submission_id_is_a_json_422(challenge, submission_id):
    client, _, _, tokens = challenge
    reply = client.post(f"/api/submissions/{submission_id}/select", headers=bearer(tokens["Quarks"]))
    assert reply.status_code == 422 and "submission_id" in reply.json()["detail"]
    missing = client.post("/api/submissions/12345/select", headers=bearer(tokens["Quarks"]))
    assert missing.status_code == 404 and "no submission 12345" in missing.json()["detail"]


def test_head_and_security_headers(challenge):
    client, _, _, _ = challenge
    for path in ("/", "/api/leaderboard"):
        head = client.head(path)
        assert head.status_code == 200 and head.content == b""
    for path in ("/", "/api/leaderboard", "/docs", "/nothing-here"):
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in headers["content-security-policy"]
    page_policy = client.get("/").headers["content-security-policy"]
    assert "default-src 'none'" in page_policy and "script-src" not in page_policy  # the page runs no script
    style = re.search(r"<style>(.*)</style>", client.get("/").text, re.DOTALL).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in page_policy  # the page's own style, and only it, may apply


def test_the_rejection_is_hidden_until_the_close(challenge):
    client, db, labels, tokens = challenge
    reply = client.post("/api/submissions", headers=bearer(tokens["Quarks"]), files=upload(npy_bytes(tagger_scores(labels, 2.0))))
    assert set(reply.json()["public"]) == {"auc", "accuracy"}
    assert "rejection" not in str(client.get("/api/leaderboard").json()) and "&epsilon;" not in client.get("/").text
    store.set_close(make_engine(db))
    line = client.get("/api/leaderboard").json()["entries"][0]
    assert set(line["public"]) == set(line["private"]) == {"auc", "accuracy", "rejection_at_30"}
    assert "&epsilon;" in client.get("/").text
