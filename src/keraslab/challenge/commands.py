"""``keraslab challenge init|team|serve|close|submit|select``: run the top-tagging challenge.

Tutor side: ``init`` stores the hidden labels, ``team add`` prints a token per
team, ``serve`` starts the leaderboard server, ``close`` ends the challenge.
Team side: ``submit`` uploads result.npy and prints its public score, ``select``
chooses the submission that counts. Web and database modules are imported inside
the commands to keep ``keraslab --help`` fast.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from keraslab.errors import UserError, needs_extra

DB_HELP = "database: a SQLite file path (e.g. challenge.db) or a URL (sqlite:///..., postgresql://user@host/db)"
TOKEN_ENV = "KERASLAB_CHALLENGE_TOKEN"

DbOption = Annotated[str, typer.Option("--db", help=DB_HELP)]
ServerOption = Annotated[str, typer.Option("--server", help="challenge server, e.g. http://10.0.0.5:8000")]
TokenOption = Annotated[
    str, typer.Option("--token", envvar=TOKEN_ENV, help=f"your team token (or set {TOKEN_ENV})", show_envvar=False)
]


def parse_time(text: str) -> dt.datetime:
    """ISO 8601 time to naive UTC; a time without zone is this machine's local time."""
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"cannot read the time {text!r}; write it as 2026-11-27T17:00 (local) or 2026-11-27T16:00Z") from None
    return when.astimezone(dt.UTC).replace(tzinfo=None)


def load_truth_labels(path: Path):
    """Hidden labels from a .npy of 0/1, or from a folder written by ``keraslab toptag generate``."""
    import numpy as np

    if path.is_dir():
        path = path / "hidden" / "challenge_labels.npy"
    if not path.is_file():
        raise UserError(f"{path} does not exist; give the hidden labels, e.g. DIR/hidden/challenge_labels.npy")
    try:
        labels = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise UserError(f"cannot read {path} as a .npy file ({err}); give a .npy of 0/1 labels") from None
    if labels.ndim != 1 or labels.dtype.kind not in "biuf" or not np.isin(labels, (0, 1)).all():
        raise UserError(f"{path} must be a 1-D array of 0/1 labels, got shape {labels.shape} dtype {labels.dtype}")
    n_signal = int(labels.sum())
    if min(n_signal, len(labels) - n_signal) < 4:
        raise UserError(f"{path} has {n_signal} signal and {len(labels) - n_signal} background jets; need at least 4 of each")
    return labels.astype(np.int8)


def register(groups) -> None:
    """Add the challenge commands to ``keraslab challenge``."""
    team_app = typer.Typer(help="Teams: add one (prints its token), list them, or give one a new token.", no_args_is_help=True)
    groups.challenge.add_typer(team_app, name="team")

    @groups.challenge.command("init")
    def init(
        truth: Annotated[Path, typer.Option("--truth", help="hidden labels: .npy of 0/1 in challenge-file order, or the toptag generate folder")],
        db: DbOption,
        public_fraction: Annotated[float, typer.Option("--public-fraction", help="share of jets on the public leaderboard")] = 0.5,
        daily_limit: Annotated[int, typer.Option("--daily-limit", help="submissions per team per UTC day")] = 5,
        closes: Annotated[str | None, typer.Option("--closes", help="closing time, ISO 8601 (local time unless it ends in Z or +hh:mm)")] = None,
    ) -> None:
        """Create the challenge in a new database from the hidden labels."""
        with needs_extra("server"):
            from keraslab.challenge import store
            from keraslab.challenge.db import make_engine

        if not 0 < public_fraction < 1:
            raise UserError(f"--public-fraction {public_fraction} must be between 0 and 1 (exclusive), e.g. 0.5")
        if daily_limit < 1:
            raise UserError(f"--daily-limit {daily_limit} must be at least 1")
        closes_at = parse_time(closes) if closes else None
        if closes_at is not None and closes_at <= store.utc_now():
            raise UserError(f"--closes {closes} is in the past; give a time to come")
        labels = load_truth_labels(truth)
        engine = make_engine(db)
        challenge = store.create_challenge(engine, labels, public_fraction, daily_limit, closes_at)
        n_public = int(store.load_truth(engine).public_mask.sum())
        closing = f"closes {challenge.closes_at:%Y-%m-%d %H:%M} UTC" if challenge.closes_at else "no closing time yet (keraslab challenge close)"
        typer.echo(
            f"challenge created in {db}: {challenge.n_jets} jets, {n_public} public / {challenge.n_jets - n_public} private, "
            f"{daily_limit} submissions per team per day, {closing}"
        )
        typer.echo(f"next: keraslab challenge team add NAME --db {db}")

    @team_app.command("add")
    def team_add(name: Annotated[str, typer.Argument(help="team name shown on the leaderboard")], db: DbOption) -> None:
        """Register a team and print its token, once: hand it to the team."""
        with needs_extra("server"):
            from keraslab.challenge import store
            from keraslab.challenge.db import make_engine

        token = store.add_team(make_engine(db), name)
        typer.echo(f"team {store.normalised_team_name(name)!r} added; its token (shown only now, stored as a hash):")
        typer.echo(token)

    @team_app.command("reset-token")
    def team_reset_token(name: Annotated[str, typer.Argument(help="the team's name, as team list shows it")], db: DbOption) -> None:
        """Give a team a new token and print it, once: the old token stops working at once."""
        with needs_extra("server"):
            from keraslab.challenge import store
            from keraslab.challenge.db import make_engine

        token = store.reset_token(make_engine(db), name)
        typer.echo(f"team {store.normalised_team_name(name)!r} has a new token (shown only now; the old one no longer works):")
        typer.echo(token)

    @team_app.command("list")
    def team_list(db: DbOption) -> None:
        """List the teams and their number of submissions."""
        with needs_extra("server"):
            from keraslab.challenge import store
            from keraslab.challenge.db import make_engine

        teams, submissions = store.all_teams_and_submissions(make_engine(db))
        for team in teams:
            count = sum(s.team_id == team.id for s in submissions)
            typer.echo(f"{team.name}\t{count} submissions")

    @groups.challenge.command("serve")
    def serve(
        db: DbOption,
        host: Annotated[str, typer.Option(help="address to listen on; 0.0.0.0 for the whole room")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port")] = 8000,
        data: Annotated[
            Path | None, typer.Option("--data", help="jets folder whose public files to serve under /data/ (never hidden/)")
        ] = None,
        workers: Annotated[int, typer.Option("--workers", help="server processes; above 1 needs a PostgreSQL --db")] = 1,
    ) -> None:
        """Start the leaderboard server (Ctrl-C stops it); with --data, also the class's jets for `keraslab toptag download`."""
        with needs_extra("server"):
            from keraslab.challenge import server

        if workers < 1:
            raise UserError(f"--workers {workers} must be at least 1")
        typer.echo(f"leaderboard: http://{host}:{port}/   API: http://{host}:{port}/docs")
        if data is not None:
            typer.echo(f"jets: http://{host}:{port}/data/   students: keraslab toptag download --server http://HOST:{port} --out DIR")
        server.serve(db, data, host, port, workers)

    @groups.challenge.command("close")
    def close(
        db: DbOption,
        at: Annotated[str | None, typer.Option("--at", help="closing time, ISO 8601; default now")] = None,
    ) -> None:
        """Close the challenge (now, or at a given time): the private ranking is then shown."""
        with needs_extra("server"):
            from keraslab.challenge import store
            from keraslab.challenge.db import make_engine

        # "now" is read once every upload being recorded has committed: none is stamped after it
        when = store.set_close(make_engine(db), parse_time(at) if at else None)
        typer.echo(f"challenge closes at {when:%Y-%m-%d %H:%M:%S} UTC")

    @groups.challenge.command("submit")
    def submit(
        file: Annotated[Path, typer.Argument(help="result.npy (one score per challenge jet) or a zip holding it")],
        server: ServerOption,
        token: TokenOption,
    ) -> None:
        """Upload a submission and print its public score."""
        from keraslab.challenge import client

        typer.echo(client.describe_submission(client.submit(server, token, file)))

    @groups.challenge.command("select")
    def select(
        submission_id: Annotated[int, typer.Argument(help="id printed by submit")],
        server: ServerOption,
        token: TokenOption,
    ) -> None:
        """Choose the submission that counts for the final ranking (default: your best public one)."""
        from keraslab.challenge import client

        reply = client.select(server, token, submission_id)
        typer.echo(f"submission {reply['id']} now counts for team {reply['team']}: {client.public_figures(reply['public'])}")

