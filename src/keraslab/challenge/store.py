"""What the challenge does with its database: create it, add teams, record submissions.

Shared by the command line (tutor side) and the server (team side). Times are
UTC; the daily limit counts submissions per team per UTC day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import secrets
import unicodedata
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keraslab.challenge.db import Challenge, Submission, Team, WriteTurn
from keraslab.challenge.scoring import (
    Score,
    draw_public_mask,
    shown_figure,
    snap_tolerances,
)
from keraslab.errors import UserError

MAX_TEAM_NAME = 40
# An upload is recorded only if its commit and its answer have this long before a
# closing time set in advance: uploads are refused from one second before it, so the
# answer of the last one recorded leaves before the close. (`close` without --at
# closes at once: uploads that committed just before it are answered a few ms after.)
ANSWER_MARGIN = dt.timedelta(seconds=1)


class ChallengeRefusal(Exception):
    """A request the challenge refuses: ``status`` is the HTTP code, the message one line."""

    def __init__(self, status: int, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after  # seconds, for 429 and 503


@dataclass(frozen=True)
class Truth:
    """The hidden side of the challenge, loaded once by the server."""

    labels: np.ndarray  # int8 0/1, challenge-file order
    public_mask: np.ndarray  # bool, True for the jets of the public leaderboard
    daily_limit: int

    @property
    def n_jets(self) -> int:
        return len(self.labels)

    @property
    def snap_tolerances(self) -> tuple[float, float]:
        return snap_tolerances(self.labels[self.public_mask])


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
        return _closes_at(session)


def _closes_at(session: Session) -> dt.datetime | None:
    row = session.execute(select(Challenge.closes_at)).first()  # not the labels' blobs
    if row is None:
        get_challenge(session)  # its one-line error
    return row[0]


def set_close(engine: Engine, when: dt.datetime | None = None) -> dt.datetime:
    """Set the closing time; return it.

    Default: now, read after every submission being recorded has committed, so that
    none is stamped after it.
    """
    with Session(engine) as session:
        _take_write_turn(session)
        now = utc_now()
        if when is not None and when < now:  # uploads stamped after it may already be acknowledged
            raise UserError(f"{when:%Y-%m-%d %H:%M:%S} UTC is in the past; close now with keraslab challenge close (no --at)")
        when = when or now
        get_challenge(session).closes_at = when
        session.commit()
    return when


def _take_write_turn(session: Session) -> None:
    """First statement of a recording transaction: wait for the others (keraslab.challenge.db.WriteTurn)."""
    session.execute(update(WriteTurn).where(WriteTurn.id == 1).values(turns=WriteTurn.turns + 1))


# Look-alike names are refused by hand-written rules: unicodedata has no script
# property and no confusables table, and the one package that has them
# (confusable_homoglyphs) is not a keraslab dependency. The rules: NFKC (fullwidth and
# compatibility forms become plain letters), one script per name (Latin "A" next to
# Cyrillic "А" is refused), and a skeleton (case-folded, accents and separators
# dropped, the common Cyrillic/Greek/digit look-alikes of Latin letters mapped to
# them) that must differ from every other team's.
LOOK_ALIKES = str.maketrans(
    {
        # i, l, I, 1 and | are one stroke in many fonts: all become l
        **dict(zip("авеёкмнорстухіјѕԁһӏԛԝьп", "abeekmhopctyxljsdhlqwbn")),  # Cyrillic
        **dict(zip("αβεηικμνοπρτυχγζω", "abenlkmvonptuxyzw")),  # Greek
        **dict(zip("01|!i", "ollll")),
    }
)
MIXABLE_SCRIPTS = ({"CJK", "HIRAGANA", "KATAKANA"}, {"CJK", "HANGUL"})  # scripts that one language writes together


def normalised_team_name(name: str) -> str:
    """NFKC, with runs of white space made one space and trimmed."""
    return " ".join(unicodedata.normalize("NFKC", name).split())


def _scripts(name: str) -> set[str]:
    """Scripts of the letters in ``name``: the first word of each letter's Unicode name (LATIN, CYRILLIC, ...)."""
    return {unicodedata.name(ch, "UNKNOWN").split()[0] for ch in name if unicodedata.category(ch) in ("Lu", "Ll", "Lt", "Lo")}


def name_skeleton(name: str) -> str:
    """What a name looks like: two names with one skeleton are confusable."""
    decomposed = unicodedata.normalize("NFKD", normalised_team_name(name).casefold())
    plain = "".join(ch for ch in decomposed if unicodedata.category(ch)[0] in "LN")  # no accents, spaces, punctuation
    return plain.translate(LOOK_ALIKES).replace("rn", "m").replace("vv", "w")


def _check_team_name(name: str) -> None:
    if not name or len(name) > MAX_TEAM_NAME or not name.isprintable():
        raise UserError(f"team name {name!r} must be 1 to {MAX_TEAM_NAME} printable characters; choose another")
    if not name_skeleton(name):
        raise UserError(f"team name {name!r} has no letter or digit; choose another")
    scripts = _scripts(name)
    if len(scripts) > 1 and not any(scripts <= mixable for mixable in MIXABLE_SCRIPTS):
        raise UserError(
            f"team name {name!r} mixes the scripts {', '.join(sorted(scripts))} (look-alike letters); write it in one script"
        )


def add_team(engine: Engine, name: str) -> str:
    """Register a team and return its token (shown once; only its hash is stored).

    The name is NFKC-normalised; it is refused when it mixes scripts or looks like another team's name.
    """
    name = normalised_team_name(name)
    _check_team_name(name)
    token = secrets.token_urlsafe(32)
    with Session(engine) as session:
        get_challenge(session)
        skeleton = name_skeleton(name)
        for other in session.scalars(select(Team.name)):
            if name_skeleton(other) == skeleton:
                same = "already exists" if other == name else f"looks like the existing team {other!r}"
                raise UserError(f"team {name!r} {same}; choose another name")
        session.add(Team(name=name, token_sha256=token_hash(token), created_at=utc_now()))
        session.commit()
    return token


def reset_token(engine: Engine, name: str) -> str:
    """Give team ``name`` a new token and return it (the old one stops working at once)."""
    name = normalised_team_name(name)
    token = secrets.token_urlsafe(32)
    with Session(engine) as session:
        team = session.scalar(select(Team).where(Team.name == name))
        if team is None:
            known = ", ".join(repr(t) for t in session.scalars(select(Team.name).order_by(Team.id)))
            raise UserError(f"no team {name!r}; the teams are {known or 'none yet'} (keraslab challenge team list)")
        team.token_sha256 = token_hash(token)
        session.commit()
    return token


def team_for_token(engine: Engine, token: str) -> Team:
    with Session(engine, expire_on_commit=False) as session:
        team = session.scalar(select(Team).where(Team.token_sha256 == token_hash(token)))
    if team is None:
        raise ChallengeRefusal(401, "unknown token; use the token your tutor gave your team")
    return team


def refuse_if_closed(engine: Engine, now: dt.datetime) -> None:
    """The cheap check before an upload is read; :func:`record_submission` checks again when it commits."""
    _refuse_if_past(closes_at(engine), now)


def _refuse_if_past(closing: dt.datetime | None, now: dt.datetime) -> None:
    if closing is not None and now >= closing:
        raise ChallengeRefusal(403, f"the challenge is closed (closing time {closing:%Y-%m-%d %H:%M:%S} UTC); no more submissions")


def _refuse_if_used_up(session: Session, team: Team, daily_limit: int, day: str) -> int:
    """Submissions of ``team`` on ``day``; 429 when the limit is reached."""
    used = session.scalar(
        select(func.count()).select_from(Submission).where(Submission.team_id == team.id, Submission.day == day)
    )
    if used >= daily_limit:
        raise ChallengeRefusal(
            429, f"team {team.name} has used its {daily_limit} submissions for {day} (UTC); try again tomorrow"
        )
    return used


def refuse_if_used_up(engine: Engine, team: Team, daily_limit: int) -> None:
    """The cheap check before an upload is read; :func:`record_submission` checks again when it commits."""
    with Session(engine) as session:
        _refuse_if_used_up(session, team, daily_limit, utc_now().date().isoformat())


def submission_for_key(engine: Engine, team: Team, idempotency_key: str | None) -> Submission | None:
    """The submission ``team`` made earlier with this idempotency key, if any."""
    if idempotency_key is None:
        return None
    with Session(engine, expire_on_commit=False) as session:
        return _submission_for_key(session, team, idempotency_key)


def _submission_for_key(session: Session, team: Team, idempotency_key: str) -> Submission | None:
    return session.scalar(
        select(Submission).where(Submission.team_id == team.id, Submission.idempotency_key == idempotency_key)
    )


def _earlier_figures(session: Session, column, shown_column, value: float, tolerance: float) -> list[tuple[float, float]]:
    """(exact, shown) of the oldest submission whose exact figure lies within ``tolerance`` of ``value``."""
    row = session.execute(
        select(column, shown_column)
        .where(column.between(value - tolerance, value + tolerance), shown_column.is_not(None))
        .order_by(Submission.id)
        .limit(1)
    ).first()
    return [tuple(row)] if row else []


def record_submission(
    engine: Engine,
    team: Team,
    truth: Truth,
    public: Score,
    private: Score,
    file_sha256: str,
    file_bytes: int,
    idempotency_key: str | None = None,
) -> tuple[Submission, bool]:
    """Commit a scored submission; return it and whether it is an earlier one (a repeated idempotency key).

    One transaction, serialised with every other submission and close
    (:func:`_take_write_turn`): the idempotency key, the closing time and the daily
    count are read in it, the time stamp is taken in it, and the row is committed
    before this returns. So no row is stamped later than ANSWER_MARGIN before the
    closing time, and the (team, day, slot) constraint only backs up the count.
    """
    auc_tolerance, accuracy_tolerance = truth.snap_tolerances
    with Session(engine, expire_on_commit=False) as session:
        _take_write_turn(session)
        if idempotency_key is not None and (earlier := _submission_for_key(session, team, idempotency_key)):
            return earlier, True
        now = utc_now()
        _refuse_if_past(_closes_at(session), now + ANSWER_MARGIN)
        day = now.date().isoformat()
        used = _refuse_if_used_up(session, team, truth.daily_limit, day)
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
            public_auc_shown=shown_figure(
                public.auc,
                _earlier_figures(session, Submission.public_auc, Submission.public_auc_shown, public.auc, auc_tolerance),
                auc_tolerance,
            ),
            public_accuracy_shown=shown_figure(
                public.accuracy,
                _earlier_figures(
                    session, Submission.public_accuracy, Submission.public_accuracy_shown, public.accuracy, accuracy_tolerance
                ),
                accuracy_tolerance,
            ),
            idempotency_key=idempotency_key,
        )
        session.add(submission)
        try:
            session.commit()
        except IntegrityError:  # only if the write turn failed to serialise: refuse rather than guess
            raise ChallengeRefusal(409, "another upload of your team was recorded at the same moment; submit again") from None
        return submission, False


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
