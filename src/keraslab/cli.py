"""The ``keraslab`` command line.

Each part of the lab registers its commands here through a ``register(app,
run_app)`` function in its own ``commands`` module, so this file only wires
them together. Heavy imports (Keras, Pythia) happen inside the commands, which
keeps ``keraslab --help`` fast and lets a command choose the Keras backend
before Keras is imported.
"""

from __future__ import annotations

import importlib
import sys

import click
import typer

from keraslab.errors import UserError

app = typer.Typer(
    name="keraslab",
    help="A hands-on deep-learning lab for scientists: Keras 3, from a toy regression to top tagging.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
run_app = typer.Typer(help="Run one part of the lab and write a run folder.", no_args_is_help=True)
app.add_typer(run_app, name="run")

# Modules that add commands; each defines register(app, run_app).
COMMAND_MODULES = (
    "keraslab.day1.commands",
    "keraslab.theory.commands",
    "keraslab.toptag.commands",
    "keraslab.challenge.commands",
)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:  # a real missing dependency, not a part still to be written
                raise
            continue
        module.register(app, run_app)


_register_all()


def main(argv: list[str] | None = None) -> None:
    """Entry point: one-line errors with exit code 2 instead of tracebacks."""
    try:
        app(args=argv, prog_name="keraslab", standalone_mode=False)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except click.exceptions.NoArgsIsHelpError as err:
        # typer shows the help text for a bare group; that is not an error
        print(err.format_message(), file=sys.stderr)
        sys.exit(0)
    except click.ClickException as err:
        print(f"error: {err.format_message()} (see keraslab --help)", file=sys.stderr)
        sys.exit(2)
    except click.exceptions.Exit as err:
        sys.exit(err.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        print("interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
