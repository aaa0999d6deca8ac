"""Command line of the back-up pages: ``keraslab run backup``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer


def register(groups) -> None:
    """Add ``keraslab run backup`` to the ``run`` group."""

    @groups.run.command("backup")
    def backup(
        out: Annotated[Path, typer.Option("--out", help="Folder for the figures (PNG) and metrics.json.")] = Path(
            "runs/backup"),
        small: Annotated[bool, typer.Option("--small", help="Shorter learning-rate scan (2,000 samples, 5 epochs), for CI.")] = False,
        overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace the back-up run already in --out.")] = False,
    ) -> None:
        """Run the slides' back-up pages as checked demonstrations; exit 1 if a claim fails."""
        import os

        from keraslab import backend

        # TensorFlow, the slides' backend, unless KERAS_BACKEND says otherwise: the
        # autodiff checks run on whichever backend is active.
        chosen_by_user = "KERAS_BACKEND" in os.environ
        name, reason = backend.select("tensorflow")
        if not chosen_by_user:
            reason = "the slides' backend; KERAS_BACKEND=jax runs the checks on JAX"
        print(f"Keras backend: {name} ({reason})")
        from keraslab.theory.backup import run_backup

        metrics = run_backup(out, small=small, overwrite=overwrite)
        failed = [metric for metric, claim in metrics["claims"].items() if not claim["passed"]]
        print(f"wrote {len(metrics['figures'])} figures and metrics.json to {out}")
        if failed:
            print(f"FAILED claims: {', '.join(failed)}")
            sys.exit(1)  # not typer.Exit: keraslab.cli.main runs typer non-standalone, which drops its code
        print(f"all {len(metrics['claims'])} claims hold")
