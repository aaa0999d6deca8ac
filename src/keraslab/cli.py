"""The ``keraslab`` command line.

Each part of the lab adds its commands through a ``register(groups)`` function
in its own module, so this file only wires them together. Heavy imports (Keras,
Pythia) happen inside the commands, which keeps ``keraslab --help`` fast and lets
a command choose the Keras backend before Keras is imported.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass

import typer

# typer >= 0.29 vendors click; its usage errors live here
from typer._click.exceptions import ClickException, NoArgsIsHelpError

from keraslab.errors import UserError

app = typer.Typer(
    name="keraslab",
    help="A hands-on deep-learning lab for scientists: Keras 3, from a toy regression to top tagging.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@dataclass(frozen=True)
class Groups:
    """The command groups a part can add commands to."""

    app: typer.Typer  # top level: keraslab doctor, keraslab lab, ...
    run: typer.Typer  # keraslab run PART
    toptag: typer.Typer  # keraslab toptag generate|validate|compare|predict
    challenge: typer.Typer  # keraslab challenge init|team|serve|submit


groups = Groups(
    app=app,
    run=typer.Typer(help="Run one part of the lab and write a run folder.", no_args_is_help=True),
    toptag=typer.Typer(help="Top-tagging data: generate, validate, compare taggers, predict.", no_args_is_help=True),
    challenge=typer.Typer(help="The top-tagging challenge: leaderboard server and submissions.", no_args_is_help=True),
)
app.add_typer(groups.run, name="run")
app.add_typer(groups.toptag, name="toptag")
app.add_typer(groups.challenge, name="challenge")

# Modules that add commands; each defines register(groups: Groups).
COMMAND_MODULES = (
    "keraslab.day1.commands",
    "keraslab.beyond.commands",
    "keraslab.theory.commands",
    "keraslab.doctor",
    "keraslab.toptag.data_commands",
    "keraslab.toptag.model_commands",
    "keraslab.challenge.commands",
    "keraslab.scan",
    "keraslab.lab.commands",
)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(groups)


_register_all()


def main(argv: list[str] | None = None) -> None:
    """Entry point: one-line errors with exit code 2 instead of tracebacks."""
    run_app(app, argv, "keraslab")


def run_app(typer_app: typer.Typer, argv: list[str] | None, prog_name: str) -> None:
    """Run a typer app the keraslab way: a UserError or a usage error is one line and exit code 2."""
    try:
        # without standalone mode, typer returns the code of typer.Exit(code)
        exit_code = typer_app(args=argv, prog_name=prog_name, standalone_mode=False)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except NoArgsIsHelpError as err:  # a bare group: show its help, not an error
        print(err.ctx.get_help() if err.ctx else "", file=sys.stderr)
        sys.exit(0)
    except ClickException as err:
        print(f"error: {err.format_message()} (see --help)", file=sys.stderr)
        sys.exit(2)
    except typer.Exit as err:
        sys.exit(err.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    if isinstance(exit_code, int) and exit_code:
        sys.exit(exit_code)


if __name__ == "__main__":
    main()
