"""``keraslab lab``: the whole lab, day one to the challenge, and one report (docs/lab.md)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from keraslab.beyond.catalog import TOPICS
from keraslab.day1.commands import DATA_DIR_HELP
from keraslab.lab import plan
from keraslab.lab.runner import STATUS_FILE


def _rerun_hint(out: Path, report: Path, size: plan.Size, data_dir: Path | None, jets: Path | None) -> str:
    """The command that reruns some parts of this rehearsal (``{parts}`` to fill in), keeping the others."""
    words = ["keraslab", "lab", "--parts", "{parts}", "--resume", "--out", str(out), "--report", str(report)]
    words += [size.flag] if size.flag else []
    words += ["--data-dir", str(data_dir)] if data_dir else []
    words += ["--jets", str(jets)] if jets else []
    return " ".join(word if word == "{parts}" else shlex.quote(word) for word in words)


def register(groups) -> None:
    """Add ``keraslab lab``."""

    @groups.app.command("lab")
    def lab(
        out: Annotated[Path, typer.Option("--out", help="Folder for the run folders of every part.")] = Path("runs/lab"),
        report: Annotated[Path, typer.Option("--report", help="The HTML report to write.")] = Path("report/index.html"),
        data_dir: Annotated[Path | None, typer.Option("--data-dir", help=DATA_DIR_HELP)] = None,
        jets: Annotated[Path | None, typer.Option(
            "--jets", help="Use this jets folder (keraslab toptag generate or download) instead of generating one.")] = None,
        parts: Annotated[str | None, typer.Option("--parts", help="Comma-separated parts to run (default: all).")] = None,
        all_parts: Annotated[bool, typer.Option(
            "--all", help="Also the parts beyond the slides: " + ", ".join(TOPICS) + ".")] = False,
        quick: Annotated[bool, typer.Option("--quick", help="Toy sizes: everything in about 3 minutes.")] = False,
        full: Annotated[bool, typer.Option(
            "--full", help="The sizes for a GPU machine: 120,000 jets and every day-two network (docs/lab.md).")] = False,
        resume: Annotated[bool, typer.Option("--resume", help="Continue a rehearsal in --out: parts that finished "
                                             "are kept, the others run again.")] = False,
        overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace the rehearsal in --out.")] = False,
    ) -> None:
        """Run the whole lab (day one at the slides' sizes, the back-up pages, jets, day two, a challenge dry run)
        and write one self-contained HTML report; exit 1 if a part failed (the report says which, and how to
        rerun it)."""
        from keraslab.errors import UserError
        from keraslab.lab import report as report_module
        from keraslab.lab.runner import Rehearsal, read_status, verdict
        from keraslab.run_folder import prepare_run_dir

        size = plan.size_named(quick, full)
        chosen = plan.choose(size, all_parts, parts)
        if jets is not None and not jets.is_dir():
            raise UserError(f"--jets {jets} is not a folder; give a jets folder or leave --jets out to generate one")
        report_module.check_writable(report)
        if resume and overwrite:
            raise UserError("--resume and --overwrite contradict each other; choose one")
        if resume and out.exists() and not (out / STATUS_FILE).is_file():
            raise UserError(f"nothing to resume in {out}: no {STATUS_FILE} there; run without --resume")
        if resume and out.exists():
            recorded = read_status(out).get("size", size.name)
            if recorded != size.name:
                flag = plan.SIZES[recorded].flag or "neither --quick nor --full"
                raise UserError(f"{out} holds a rehearsal at the {recorded} size: resume it with {flag}, "
                                "or choose another --out")
        else:
            prepare_run_dir(out, overwrite=overwrite)
        ctx = plan.Context(out=out, size=size, data_dir=data_dir, jets_dir=jets)
        rehearsal = Rehearsal(ctx, chosen, resume=resume, rerun_hint=_rerun_hint(out, report, size, data_dir, jets))
        try:
            status = rehearsal.run()
        finally:  # an interrupted rehearsal still leaves a report of what ran
            path = report_module.write_report(out, report)
            print(f"\nreport: {path}")
        ran, line = verdict(status)
        print(f"verdict: {line}")
        if not ran:
            sys.exit(1)  # not typer.Exit: keraslab.cli.main runs typer non-standalone, which drops its code
