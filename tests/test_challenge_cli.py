"""The tutor's challenge commands: bad input gives one line and exit code 2, and nothing is overwritten."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from local_services import free_port

from keraslab import cli
from keraslab.challenge import store
from keraslab.challenge.db import make_engine


def run(capsys, *args: str) -> tuple[int, str, str]:
    """Run ``keraslab ARGS`` in-process; return (exit code, stdout, stderr)."""
    try:
        cli.main(list(args))
        code = 0
    except SystemExit as exit_info:
        code = exit_info.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture
def truth(tmp_path):
    path = tmp_path / "labels.npy"
    np.save(path, np.random.default_rng(0).integers(0, 2, 200).astype(np.int8))
    return path


def test_init_then_teams_then_close(capsys, tmp_path, truth):
    db = str(tmp_path / "c.db")
    code, out, _ = run(capsys, "challenge", "init", "--truth", str(truth), "--db", db, "--public-fraction", "0.3",
                       "--closes", "2999-01-01T12:00Z")
    assert code == 0 and "200 jets, 60 public / 140 private" in out and "closes 2999-01-01 12:00 UTC" in out
    code, out, _ = run(capsys, "challenge", "team", "add", "Alpha", "--db", db)
    token = out.strip().splitlines()[-1]
    assert code == 0 and store.team_for_token(make_engine(db), token).name == "Alpha"
    code, out, _ = run(capsys, "challenge", "team", "list", "--db", db)
    assert out == "Alpha\t0 submissions\n"
    code, _, err = run(capsys, "challenge", "close", "--db", db, "--at", "2001-01-01T00:00Z")
    assert_one_line_error(code, err, "is in the past", "no --at")  # uploads after it may have been acknowledged
    assert store.closes_at(make_engine(db)) == dt.datetime(2999, 1, 1, 12, 0)
    code, out, _ = run(capsys, "challenge", "close", "--db", db)
    assert code == 0 and store.closes_at(make_engine(db)) <= store.utc_now()


@pytest.mark.parametrize(
    "labels, fragments",
    [
        (np.array([0, 1, 2, 1, 0, 1, 0, 1, 0, 1]), ("must be a 1-D array of 0/1 labels",)),
        (np.zeros((10, 2)), ("must be a 1-D array of 0/1 labels", "(10, 2)")),
        (np.array([0, 0, 0, 0, 0, 0, 1]), ("need at least 4 of each",)),
    ],
)
def test_init_refuses_bad_labels(capsys, tmp_path, labels, fragments):
    path = tmp_path / "labels.npy"
    np.save(path, labels)
    code, _, err = run(capsys, "challenge", "init", "--truth", str(path), "--db", str(tmp_path / "c.db"))
    assert_one_line_error(code, err, *fragments)
    assert not (tmp_path / "c.db").exists()


@pytest.mark.parametrize(
    "options, fragments",
    [
        (["--public-fraction", "1.5"], ("--public-fraction 1.5 must be between 0 and 1",)),
        (["--daily-limit", "0"], ("--daily-limit 0 must be at least 1",)),
        (["--closes", "2001-01-01T00:00Z"], ("is in the past",)),
        (["--closes", "tomorrow"], ("cannot read the time 'tomorrow'",)),
    ],
)
def test_init_refuses_bad_options(capsys, tmp_path, truth, options, fragments):
    code, _, err = run(capsys, "challenge", "init", "--truth", str(truth), "--db", str(tmp_path / "c.db"), *options)
    assert_one_line_error(code, err, *fragments)


def test_init_never_replaces_an_existing_challenge(capsys, tmp_path, truth):
    db = str(tmp_path / "c.db")
    assert run(capsys, "challenge", "init", "--truth", str(truth), "--db", db)[0] == 0
    before = store.load_truth(make_engine(db))
    other = tmp_path / "other.npy"
    np.save(other, 1 - np.load(truth))
    code, _, err = run(capsys, "challenge", "init", "--truth", str(other), "--db", db)
    assert_one_line_error(code, err, "already holds a challenge")
    after = store.load_truth(make_engine(db))
    assert np.array_equal(before.labels, after.labels) and np.array_equal(before.public_mask, after.public_mask)


def test_missing_inputs(capsys, tmp_path, truth):
    code, _, err = run(capsys, "challenge", "init", "--truth", str(tmp_path / "nope.npy"), "--db", str(tmp_path / "c.db"))
    assert_one_line_error(code, err, "does not exist")
    code, _, err = run(capsys, "challenge", "init", "--truth", str(truth), "--db", str(tmp_path / "no" / "c.db"))
    assert_one_line_error(code, err, "does not exist; create it")
    code, _, err = run(capsys, "challenge", "team", "add", "A", "--db", str(tmp_path / "empty.db"))
    assert_one_line_error(code, err, "holds no challenge", "keraslab challenge init")
    code, _, err = run(capsys, "challenge", "serve", "--db", str(tmp_path / "empty.db"), "--port", str(free_port()))
    assert_one_line_error(code, err, "holds no challenge")
    code, _, err = run(capsys, "challenge", "init", "--truth", str(truth), "--db", "postgresql://nobody@127.0.0.1:1/none")
    assert_one_line_error(code, err, "cannot open the database", "check --db")


def test_team_names(capsys, tmp_path, truth):
    db = str(tmp_path / "c.db")
    run(capsys, "challenge", "init", "--truth", str(truth), "--db", db)
    assert run(capsys, "challenge", "team", "add", "Alpha", "--db", db)[0] == 0
    code, _, err = run(capsys, "challenge", "team", "add", "Alpha", "--db", db)
    assert_one_line_error(code, err, "already exists")
    code, _, err = run(capsys, "challenge", "team", "add", "x" * 41, "--db", db)
    assert_one_line_error(code, err, "1 to 40 printable characters")


def test_submit_errors(capsys, tmp_path):
    code, _, err = run(capsys, "challenge", "submit", str(tmp_path / "result.npy"), "--server", "http://127.0.0.1:1", "--token", "t")
    assert_one_line_error(code, err, "does not exist")
    result = tmp_path / "result.npy"
    np.save(result, np.zeros(10))
    server = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    code, _, err = run(capsys, "challenge", "submit", str(result), "--server", server, "--token", "t")
    assert_one_line_error(code, err, f"cannot reach {server}")


def test_local_closing_time_is_converted_to_utc():
    from keraslab.challenge.commands import parse_time

    assert parse_time("2030-06-01T12:00+02:00") == dt.datetime(2030, 6, 1, 10, 0)
    naive = dt.datetime(2030, 6, 1, 12, 0)
    assert parse_time("2030-06-01T12:00") == naive.astimezone(dt.UTC).replace(tzinfo=None)


@pytest.mark.parametrize(
    "name, fragment",
    [
        ("Аlpha", "mixes the scripts CYRILLIC, LATIN"),  # Cyrillic А next to Latin letters
        ("Αlpha", "mixes the scripts GREEK, LATIN"),  # Greek Α
        ("АІРНА", "looks like the existing team 'Alpha'"),  # all Cyrillic: one script, but the same skeleton
        ("ＡＬＰＨＡ", "looks like the existing team 'Alpha'"),  # fullwidth: NFKC makes it ALPHA
        ("alpha", "looks like the existing team 'Alpha'"),
        ("A l p h a", "looks like the existing team 'Alpha'"),
        ("Alphа", "mixes the scripts"),
        ("Team 0ne", "looks like the existing team 'Team One'"),
        ("Ålpha", "looks like the existing team 'Alpha'"),
        ("!!!", "has no letter or digit"),
    ],
)
def test_look_alike_team_names_are_refused(capsys, tmp_path, truth, name, fragment):
    db = str(tmp_path / "c.db")
    run(capsys, "challenge", "init", "--truth", str(truth), "--db", db)
    for existing in ("Alpha", "Team One"):
        assert run(capsys, "challenge", "team", "add", existing, "--db", db)[0] == 0
    code, _, err = run(capsys, "challenge", "team", "add", name, "--db", db)
    assert_one_line_error(code, err, fragment)
    assert [t.name for t in store.all_teams_and_submissions(make_engine(db))[0]] == ["Alpha", "Team One"]


def test_names_in_other_scripts_are_welcome(capsys, tmp_path, truth):
    db = str(tmp_path / "c.db")
    run(capsys, "challenge", "init", "--truth", str(truth), "--db", db)
    for name in ("Кварки", "Γκλουόνια", "トップ班", "Top Guns", "Top Guns 2"):
        assert run(capsys, "challenge", "team", "add", name, "--db", db)[0] == 0, name
    code, out, _ = run(capsys, "challenge", "team", "add", "  Ｂｏｔｔｏｍ   Quarks ", "--db", db)
    assert code == 0 and "team 'Bottom Quarks' added" in out  # stored NFKC-normalised


def test_reset_token(capsys, tmp_path, truth):
    db = str(tmp_path / "c.db")
    run(capsys, "challenge", "init", "--truth", str(truth), "--db", db)
    old = run(capsys, "challenge", "team", "add", "Alpha", "--db", db)[1].strip().splitlines()[-1]
    code, out, _ = run(capsys, "challenge", "team", "reset-token", "Alpha", "--db", db)
    new = out.strip().splitlines()[-1]
    assert code == 0 and "new token" in out and new != old and len(new) >= 40
    assert store.team_for_token(make_engine(db), new).name == "Alpha"
    with pytest.raises(store.ChallengeRefusal, match="unknown token"):
        store.team_for_token(make_engine(db), old)
    code, _, err = run(capsys, "challenge", "team", "reset-token", "Beta", "--db", db)
    assert_one_line_error(code, err, "no team 'Beta'", "'Alpha'")


def test_several_workers_need_postgresql(capsys, tmp_path, truth):
    db = str(tmp_path / "c.db")
    run(capsys, "challenge", "init", "--truth", str(truth), "--db", db)
    code, _, err = run(capsys, "challenge", "serve", "--db", db, "--workers", "2", "--port", str(free_port()))
    assert_one_line_error(code, err, "--workers 2 needs PostgreSQL")
    code, _, err = run(capsys, "challenge", "serve", "--db", db, "--workers", "0", "--port", str(free_port()))
    assert_one_line_error(code, err, "--workers 0 must be at least 1")
