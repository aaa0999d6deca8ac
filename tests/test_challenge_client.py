"""keraslab.challenge.client against a real server: what the notebook's challenge cell calls."""

from __future__ import annotations

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
        assert reply["public"]["auc"] == pytest.approx(roc_auc_score(labels[public], scores[public]), abs=5e-5)  # the server rounds to 4 digits
        assert client.describe_submission(reply).startswith("submission 1 accepted for team Notebook: public AUC ")
        np.save(tmp_path / "result.npy", scores)
        assert client.submit(server.url, token, tmp_path / "result.npy")["submissions_today"] == 2  # a file, as the CLI
        with pytest.raises(UserError, match=r"^the server refused \(429\)"):
            client.submit(server.url, token, scores)  # over the daily limit: one line, no traceback from httpx
        with pytest.raises(UserError, match=r"^the server refused \(401\): unknown token"):
            client.submit(server.url, "not-a-token", scores)
        assert client.select(server.url, token, 1)["id"] == 1
