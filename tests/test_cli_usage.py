"""The command line's own behaviour: help, one-line usage errors, exit codes."""

import subprocess
import sys

import pytest


def keraslab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "keraslab.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_help_lists_every_group():
    result = keraslab("--help")
    assert result.returncode == 0
    for group in ("run", "toptag", "challenge"):
        assert group in result.stdout


@pytest.mark.parametrize("args", [["frobnicate"], ["run", "no-such-part"], ["--no-such-option"]])
def test_usage_errors_are_one_line_with_exit_code_2(args):
    result = keraslab(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr


def test_user_error_becomes_one_line(monkeypatch, capsys):
    from keraslab import cli
    from keraslab.errors import UserError

    def fail(*args, **kwargs):
        raise UserError("the data folder is missing; run keraslab toptag generate first")

    monkeypatch.setattr(cli, "app", fail)
    with pytest.raises(SystemExit) as exit_info:
        cli.main([])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == "error: the data folder is missing; run keraslab toptag generate first\n"


def test_typer_exit_code_reaches_the_shell(monkeypatch):
    import typer

    from keraslab import cli

    probe = typer.Typer()

    @probe.command()
    def verdict() -> None:
        raise typer.Exit(1)

    monkeypatch.setattr(cli, "app", probe)
    with pytest.raises(SystemExit) as exit_info:
        cli.main([])
    assert exit_info.value.code == 1
