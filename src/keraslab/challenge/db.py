"""The challenge database: tables, and an engine for SQLite (default) or PostgreSQL.

SQLite runs in WAL mode with ``synchronous=FULL``: readers (the leaderboard)
never wait for writers, and a commit is on disk before the server replies 201.
Several uploads from one team can arrive at once; the daily limit is enforced by
the database itself, through a unique (team, day, slot) constraint (see
:mod:`keraslab.challenge.store`), so it holds on both back ends and across
server processes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import (
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from keraslab.errors import UserError

SQLITE_BUSY_TIMEOUT_S = 30.0  # a writer waits this long for another to commit
# enough connections for every worker thread of the server (FastAPI's pool has 40)
POOL = {"pool_size": 10, "max_overflow": 40}


class Base(DeclarativeBase):
    pass


class Challenge(Base):
    """The one challenge a database holds: hidden labels and the public/private split."""

    __tablename__ = "challenge"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC, naive
    n_jets: Mapped[int] = mapped_column(Integer)
    public_fraction: Mapped[float] = mapped_column(Float)
    daily_limit: Mapped[int] = mapped_column(Integer)  # submissions per team per UTC day
    closes_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)  # UTC, naive
    labels_npy: Mapped[bytes] = mapped_column(LargeBinary)  # int8 0/1, .npy bytes; never served
    public_mask_npy: Mapped[bytes] = mapped_column(LargeBinary)  # bool, .npy bytes; never served


class Team(Base):
    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)  # the token itself is never stored
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    selected_submission_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Submission(Base):
    """One accepted upload and its scores; the file itself is not kept, only its hash."""

    __tablename__ = "submission"
    __table_args__ = (UniqueConstraint("team_id", "day", "slot", name="one_submission_per_daily_slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC, naive
    day: Mapped[str] = mapped_column(String(10))  # UTC date, YYYY-MM-DD
    slot: Mapped[int] = mapped_column(Integer)  # 1..daily_limit within the day
    file_sha256: Mapped[str] = mapped_column(String(64))
    file_bytes: Mapped[int] = mapped_column(Integer)
    public_auc: Mapped[float] = mapped_column(Float)
    public_accuracy: Mapped[float] = mapped_column(Float)
    public_rejection: Mapped[float] = mapped_column(Float)
    private_auc: Mapped[float] = mapped_column(Float)
    private_accuracy: Mapped[float] = mapped_column(Float)
    private_rejection: Mapped[float] = mapped_column(Float)


def database_url(db: str) -> str:
    """SQLAlchemy URL for ``--db``: a URL, or a plain file path meaning SQLite.

    ``postgresql://`` URLs are routed to the psycopg 3 driver (``pip install keraslab[postgres]``).
    """
    if "://" not in db:
        return f"sqlite:///{Path(db).expanduser().resolve()}"
    for prefix in ("postgresql://", "postgres://"):
        if db.startswith(prefix):
            return "postgresql+psycopg://" + db[len(prefix) :]
    return db


def make_engine(db: str) -> Engine:
    """Engine for ``--db`` (see :func:`database_url`), with the tables created if missing."""
    url = database_url(db)
    if url.startswith("sqlite:///"):
        folder = Path(url.removeprefix("sqlite:///")).parent
        if not folder.is_dir():
            raise UserError(f"folder {folder} does not exist; create it or choose another --db path")
    try:
        if url.startswith("sqlite"):
            engine = create_engine(
                url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}, **POOL
            )
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_pre_ping=True, **POOL)
        Base.metadata.create_all(engine)
    except ModuleNotFoundError as err:
        raise UserError(f"no driver for {url.split(':')[0]} ({err.name}); pip install 'keraslab[postgres]'") from None
    except Exception as err:  # connection refused, bad credentials, unwritable file...
        if type(err).__module__.startswith("sqlalchemy"):
            reason = str(getattr(err, "orig", err)).strip().splitlines()[0]
            raise UserError(f"cannot open the database {db}: {reason}; check --db") from None
        raise
    return engine


def _sqlite_pragmas(dbapi_connection, _connection_record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
