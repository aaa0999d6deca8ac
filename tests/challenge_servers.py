"""Helpers for the challenge tests: a small challenge, teams, submissions of known quality."""

from __future__ import annotations

import io
import zipfile

import numpy as np

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
