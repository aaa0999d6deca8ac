"""The exceptions the command line turns into a one-line message, the checks of names against their choices,
and the missing-extra message for imports from keraslab's optional dependencies."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Collection, Iterator


class UserError(Exception):
    """A problem the user can fix: the message says what to do.

    The CLI prints ``error: <message>`` on one line and exits with code 2,
    without a traceback. Raise it for bad options, missing or corrupt data,
    unwritable folders and the like; let programming errors propagate.
    """


class UnknownChoice(UserError, ValueError):
    """A name that is none of its choices (network, part, variant, optimiser, ...); the message lists them.

    Also a ValueError, the standard exception for a bad argument value, for code that catches that.
    """


def choose(what: str, name: str, choices: Collection[str]) -> str:
    """``name`` if it is one of ``choices``, else UnknownChoice("unknown <what> 'name'; choose one of: ...")."""
    if name not in choices:
        raise UnknownChoice(f"unknown {what} {name!r}; choose one of: {', '.join(choices)}")
    return name


def parse_choices(what: str, text: str, choices: Collection[str]) -> list[str]:
    """The names in the comma-separated ``text``, in its order; UnknownChoice naming the unknown ones (or none given)."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in choices]
    if unknown or not names:
        raise UnknownChoice(f"unknown {what}(s) {', '.join(unknown) or '(none given)'}; choose from: {', '.join(choices)}")
    return names


@contextlib.contextmanager
def needs_extra(extra: str, exit_now: bool = False) -> Iterator[None]:
    """Imports inside this block come from keraslab's ``extra`` (pyproject.toml's optional dependencies):
    a missing module becomes UserError("... pip install 'keraslab[extra]'").

    ``exit_now``: print that error as the CLI does and exit with code 2 instead, for imports at the top of
    a module run with ``python -m`` (before its CLI can catch anything). A missing keraslab module is a
    programming error and propagates as it is.
    """
    try:
        yield
    except ModuleNotFoundError as err:
        module = (err.name or "").partition(".")[0]
        if module == "keraslab":
            raise
        message = (
            f"this needs keraslab's '{extra}' extra (Python module {module!r} is missing): "
            f"pip install 'keraslab[{extra}]'"
        )
        if exit_now:
            print(f"error: {message}", file=sys.stderr)
            sys.exit(2)
        raise UserError(message) from None


def one_line_in_notebooks() -> None:
    """In an IPython kernel (a notebook), show a UserError as ``error: <message>`` instead of a traceback.

    The notebooks' equivalent of the command line's rule: a student who points DATA_DIR at
    the wrong folder reads what to do, not a stack of keraslab's frames. Outside IPython it
    does nothing.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return

    def show(shell, kind, error, traceback, tb_offset=None):
        print(f"error: {error}", file=sys.stderr)

    shell.set_custom_exc((UserError,), show)
