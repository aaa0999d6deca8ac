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
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

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


class WriteTurn(Base):
    """One row that every submission and every close updates first, in its own transaction.

    This serialises them on both back ends (SQLite's write lock, a PostgreSQL row
    lock), so the closing time, the daily count and the idempotency key read inside
    the transaction are the latest committed ones until it commits.
    """

    __tablename__ = "write_turn"

    id: Mapped[int] = mapped_column(primary_key=True)
    turns: Mapped[int] = mapped_column(Integer, default=0)


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
    __table_args__ = (
        UniqueConstraint("team_id", "day", "slot", name="one_submission_per_daily_slot"),
        # NULL keys (uploads without Idempotency-Key) never collide, on both back ends
        Index("one_submission_per_idempotency_key", "team_id", "idempotency_key", unique=True),
    )

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
    # what is served before the close (keraslab.challenge.scoring.shown_figure); NULL in older databases
    public_auc_shown: Mapped[float | None] = mapped_column(Float, nullable=True)
    public_accuracy_shown: Mapped[float | None] = mapped_column(Float, nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), nullable=True)  # the client's, per team

# columns added after the first release: added to an older database when it is opened
ADDED_COLUMNS = {"public_auc_shown": "FLOAT", "public_accuracy_shown": "FLOAT", "idempotency_key": "VARCHAR(128)"}


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
        _add_missing_columns(engine)
        Base.metadata.create_all(engine)
        _add_write_turn_row(engine)
    except ModuleNotFoundError as err:
        raise UserError(f"no driver for {url.split(':')[0]} ({err.name}); pip install 'keraslab[postgres]'") from None
    except Exception as err:  # connection refused, bad credentials, unwritable file...
        if type(err).__module__.startswith("sqlalchemy"):
            reason = str(getattr(err, "orig", err)).strip().splitlines()[0]
            raise UserError(f"cannot open the database {db}: {reason}; check --db") from None
        raise
    return engine


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _add_missing_columns(engine: Engine) -> None:
    """Bring a submission table from an older keraslab up to date (nullable columns only)."""
    if not inspect(engine).has_table(Submission.__tablename__):
        return
    present = {column["name"] for column in inspect(engine).get_columns(Submission.__tablename__)}
    with engine.begin() as connection:
        for name, sql_type in ADDED_COLUMNS.items():
            if name not in present:
                connection.execute(text(f"ALTER TABLE {Submission.__tablename__} ADD COLUMN {name} {sql_type}"))


def _add_write_turn_row(engine: Engine) -> None:
    with Session(engine) as session:
        if session.get(WriteTurn, 1) is None:
            session.add(WriteTurn(id=1, turns=0))
            try:
                session.commit()
            except IntegrityError:  # another process added it first
                session.rollback()


def _sqlite_pragmas(dbapi_connection, _connection_record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
