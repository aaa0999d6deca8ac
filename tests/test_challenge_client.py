"""keraslab.challenge.client against a real server: what the notebook's challenge cell calls."""

from __future__ import annotations

import functools

import httpx
import numpy as np
import pytest
from challenge_servers import add_teams, make_challenge, tagger_scores
from local_services import running_server
from sklearn.metrics import roc_auc_score

from keraslab.challenge import client, store
from keraslab.challenge.db import make_engine
from keraslab.errors import UserError


def test_scores_uploaded_from_python_are_scored_in_file_order(tmp_path):
    db = str(tmp_path / "challenge.db")
    labels = make_challenge(db, daily_limit=2)
    token = add_teams(db, "Notebook")["Notebook"]
    scores = tagger_scores(labels, 2.0)
    public = store.load_truth(make_engine(db)).public_mask
    with running_server(db) as server:
        reply = client.submit(server.url, token, scores)  # an array, as the notebook holds it
        assert reply["public"]["auc"] == round(roc_auc_score(labels[public], scores[public]), 3)  # rounded before the close
        assert client.describe_submission(reply).startswith("submission 1 accepted for team Notebook: public AUC ")
        np.save(tmp_path / "result.npy", scores)  # the same scores as a file, as the CLI sends them
        again = client.submit(server.url, token, tmp_path / "result.npy")
        assert (again["id"], again["submissions_today"], again["replayed"]) == (1, 1, True)  # same file: no slot used
        assert "accepted before" in client.describe_submission(again)
        np.save(tmp_path / "better.npy", tagger_scores(labels, 3.0))
        assert client.submit(server.url, token, tmp_path / "better.npy")["submissions_today"] == 2
        with pytest.raises(UserError, match=r"^the server refused \(429\)"):
            client.submit(server.url, token, tagger_scores(labels, 1.0))  # over the daily limit: one line, no traceback from httpx
        with pytest.raises(UserError, match=r"^the server refused \(401\): unknown token"):
            client.submit(server.url, "not-a-token", scores)
        assert client.select(server.url, token, 1)["id"] == 1


def test_a_lost_answer_is_retried_with_the_same_idempotency_key(monkeypatch):
    """The server committed but the connection dropped before its answer: the retry carries the same key."""
    keys = []

    def server(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers["Idempotency-Key"])
        if len(keys) == 1:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        if len(keys) == 2:
            return httpx.Response(503, json={"detail": "busy"}, headers={"Retry-After": "0"})
        reply = {"id": 7, "team": "T", "public": {"auc": 0.9, "accuracy": 0.8}, "submissions_today": 1, "daily_limit": 5}
        return httpx.Response(200, json=reply, headers={"Idempotent-Replayed": "true"})

    monkeypatch.setattr(httpx, "Client", functools.partial(httpx.Client, transport=httpx.MockTransport(server)))
    monkeypatch.setattr(client, "RETRY_WAIT_S", 0.0)
    reply = client.submit("http://challenge.invalid", "token", np.zeros(10))
    assert len(keys) == 3 and len(set(keys)) == 1 and len(keys[0]) == 64
    assert reply["id"] == 7 and reply["replayed"] is True
