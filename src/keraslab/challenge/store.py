"""What the challenge does with its database: create it, add teams, record submissions.

Shared by the command line (tutor side) and the server (team side). Times are
UTC; the daily limit counts submissions per team per UTC day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import secrets
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keraslab.challenge.db import Challenge, Submission, Team
from keraslab.challenge.scoring import Score, draw_public_mask
from keraslab.errors import UserError

MAX_TEAM_NAME = 40


class ChallengeRefusal(Exception):
    """A request the challenge refuses: ``status`` is the HTTP code, the message one line."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Truth:
    """The hidden side of the challenge, loaded once by the server."""

    labels: np.ndarray  # int8 0/1, challenge-file order
    public_mask: np.ndarray  # bool, True for the jets of the public leaderboard
    daily_limit: int

    @property
    def n_jets(self) -> int:
        return len(self.labels)


def utc_now() -> dt.datetime:
    """Current UTC time as a naive datetime (how the database stores times)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def token_hash(token: str) -> str:
    """SHA-256 of a team token; tokens are 256-bit random, so a fast hash is enough."""
    return hashlib.sha256(token.encode()).hexdigest()


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _from_npy(data: bytes) -> np.ndarray:
    return np.load(io.BytesIO(data), allow_pickle=False)


def create_challenge(
    engine: Engine,
    labels: np.ndarray,
    public_fraction: float,
    daily_limit: int,
    closes_at: dt.datetime | None,
) -> Challenge:
    """Store the hidden labels and a freshly drawn public/private split; one challenge per database."""
    with Session(engine, expire_on_commit=False) as session:
        if session.scalar(select(func.count()).select_from(Challenge)):
            raise UserError("this database already holds a challenge; give a new --db to start another")
        rng = np.random.default_rng(secrets.randbits(128))  # unpredictable: nobody can redraw the split
        public_mask = draw_public_mask(labels, public_fraction, rng)
        challenge = Challenge(
            created_at=utc_now(),
            n_jets=len(labels),
            public_fraction=public_fraction,
            daily_limit=daily_limit,
            closes_at=closes_at,
            labels_npy=_npy(labels.astype(np.int8)),
            public_mask_npy=_npy(public_mask),
        )
        session.add(challenge)
        session.commit()
        return challenge


def get_challenge(session: Session) -> Challenge:
    challenge = session.scalar(select(Challenge))
    if challenge is None:
        raise UserError("this database holds no challenge; run keraslab challenge init --truth FILE --db URL first")
    return challenge


def load_truth(engine: Engine) -> Truth:
    with Session(engine) as session:
        challenge = get_challenge(session)
        return Truth(
            labels=_from_npy(challenge.labels_npy),
            public_mask=_from_npy(challenge.public_mask_npy),
            daily_limit=challenge.daily_limit,
        )


def closes_at(engine: Engine) -> dt.datetime | None:
    """Closing time (UTC, naive), read afresh so that ``keraslab challenge close`` acts at once."""
    with Session(engine) as session:
        return get_challenge(session).closes_at


def set_close(engine: Engine, when: dt.datetime) -> None:
    with Session(engine) as session:
        get_challenge(session).closes_at = when
        session.commit()


def add_team(engine: Engine, name: str) -> str:
    """Register a team and return its token (shown once; only its hash is stored)."""
    name = name.strip()
    if not name or len(name) > MAX_TEAM_NAME or not name.isprintable():
        raise UserError(f"team name {name!r} must be 1 to {MAX_TEAM_NAME} printable characters; choose another")
    token = secrets.token_urlsafe(32)
    with Session(engine) as session:
        get_challenge(session)
        if session.scalar(select(Team).where(Team.name == name)) is not None:
            raise UserError(f"team {name!r} already exists; choose another name")
        session.add(Team(name=name, token_sha256=token_hash(token), created_at=utc_now()))
        session.commit()
    return token


def team_for_token(engine: Engine, token: str) -> Team:
    with Session(engine, expire_on_commit=False) as session:
        team = session.scalar(select(Team).where(Team.token_sha256 == token_hash(token)))
    if team is None:
        raise ChallengeRefusal(401, "unknown token; use the token your tutor gave your team")
    return team


def refuse_if_closed(engine: Engine, now: dt.datetime) -> None:
    closing = closes_at(engine)
    if closing is not None and now >= closing:
        raise ChallengeRefusal(403, f"the challenge closed at {closing:%Y-%m-%d %H:%M} UTC; no more submissions")


def record_submission(
    engine: Engine,
    team: Team,
    daily_limit: int,
    public: Score,
    private: Score,
    file_sha256: str,
    file_bytes: int,
) -> Submission:
    """Commit a scored submission, or refuse it when the team's daily limit is used up.

    Each submission takes the next free slot 1..daily_limit of the team's UTC day;
    the unique (team, day, slot) constraint makes two concurrent uploads that
    counted the same slot collide in the database, and the loser counts again.
    The row is committed before this returns.
    """
    for _ in range(daily_limit + 1):  # each retry means another upload took a slot
        now = utc_now()
        day = now.date().isoformat()
        with Session(engine, expire_on_commit=False) as session:
            used = session.scalar(
                select(func.count()).select_from(Submission).where(Submission.team_id == team.id, Submission.day == day)
            )
            if used >= daily_limit:
                raise ChallengeRefusal(
                    429, f"team {team.name} has used its {daily_limit} submissions for {day} (UTC); try again tomorrow"
                )
            submission = Submission(
                team_id=team.id,
                submitted_at=now,
                day=day,
                slot=used + 1,
                file_sha256=file_sha256,
                file_bytes=file_bytes,
                public_auc=public.auc,
                public_accuracy=public.accuracy,
                public_rejection=public.rejection_at_30,
                private_auc=private.auc,
                private_accuracy=private.accuracy,
                private_rejection=private.rejection_at_30,
            )
            session.add(submission)
            try:
                session.commit()
            except IntegrityError:
                continue
            return submission
    raise ChallengeRefusal(429, f"team {team.name} has used its {daily_limit} submissions today; try again tomorrow")


def team_submissions(engine: Engine, team: Team) -> list[Submission]:
    with Session(engine) as session:
        return list(
            session.scalars(select(Submission).where(Submission.team_id == team.id).order_by(Submission.id))
        )


def select_submission(engine: Engine, team: Team, submission_id: int) -> Submission:
    """Make ``submission_id`` the one that counts for the final ranking of ``team``."""
    with Session(engine, expire_on_commit=False) as session:
        submission = session.get(Submission, submission_id)
        if submission is None or submission.team_id != team.id:  # another team's id looks the same as none
            raise ChallengeRefusal(404, f"your team has no submission {submission_id}; list yours with GET /api/submissions")
        session.get(Team, team.id).selected_submission_id = submission_id
        session.commit()
        return submission


def all_teams_and_submissions(engine: Engine) -> tuple[list[Team], list[Submission]]:
    with Session(engine) as session:
        teams = list(session.scalars(select(Team).order_by(Team.id)))
        submissions = list(session.scalars(select(Submission).order_by(Submission.id)))
        return teams, submissions
