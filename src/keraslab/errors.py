"""The exceptions the command line turns into a one-line message, and the checks of names against their choices."""

from __future__ import annotations

from collections.abc import Collection


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
