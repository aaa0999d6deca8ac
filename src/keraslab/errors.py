"""The one exception type that the command line turns into a one-line message."""


class UserError(Exception):
    """A problem the user can fix: the message says what to do.

    The CLI prints ``error: <message>`` on one line and exits with code 2,
    without a traceback. Raise it for bad options, missing or corrupt data,
    unwritable folders and the like; let programming errors propagate.
    """
