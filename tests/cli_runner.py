"""Run the keraslab command line in-process, as the shell would, and return its exit code."""

from keraslab import cli


def run_cli(*args: str) -> int:
    try:
        cli.main(list(args))
    except SystemExit as exit_info:
        return exit_info.code
    return 0
