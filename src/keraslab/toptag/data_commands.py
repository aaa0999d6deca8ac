"""``keraslab toptag generate|validate|derive|download`` and ``keraslab run toptag-baseline``.

Pythia, FastJet, pandas and matplotlib are imported inside the commands so
that ``keraslab --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from keraslab.errors import UserError
from keraslab.toptag.catalog import CUT_BASELINE, NSUB_BASELINE


def parse_split(text: str) -> tuple[float, ...]:
    """'0.6,0.15,0.15,0.1' -> (0.6, 0.15, 0.15, 0.1); checked further by GenerationSettings."""
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise UserError(f"--split {text!r} must be comma-separated fractions train,val,test[,challenge], e.g. 0.6,0.15,0.15,0.1") from None


def register(groups) -> None:
    """Add the jet-data commands."""

    @groups.toptag.command("generate")
    def generate(
        jets: Annotated[int, typer.Option("--jets", help="total number of jets, all samples together")],
        out: Annotated[Path, typer.Option("--out", help="jets folder to create or finish")],
        seed: Annotated[int, typer.Option("--seed", help="master seed: same seed and settings, same jets")] = 1,
        split: Annotated[str, typer.Option("--split", help="fractions train,val,test[,challenge]")] = "0.6,0.15,0.15,0.1",
        workers: Annotated[int, typer.Option("--workers", help="local worker processes")] = 1,
        scheduler: Annotated[
            str | None, typer.Option("--scheduler", help="Dask scheduler address (tcp://host:8786) to send chunks to")
        ] = None,
        chunk_jets: Annotated[int, typer.Option("--chunk-jets", help="jets per chunk (unit of work and of resuming)")] = 1000,
        overwrite: Annotated[bool, typer.Option("--overwrite", help="replace a jets folder made with other settings")] = False,
    ) -> None:
        """Generate top (t tbar) and QCD jets with Pythia 8 + FastJet in the reference format.

        Rerunning the same command after an interruption finishes the job
        without redoing finished chunks.
        """
        from keraslab.toptag.generation import GenerationSettings
        from keraslab.toptag.generation import generate as run_generation

        settings = GenerationSettings(jets=jets, seed=seed, split=parse_split(split), chunk_jets=chunk_jets)
        manifest = run_generation(out, settings, workers=workers, scheduler=scheduler, overwrite=overwrite)
        sizes = ", ".join(f"{k} {v}" for k, v in settings.sample_sizes().items() if v)
        print(f"{out}: {settings.jets} jets ({sizes}); {len(manifest['chunks'])} chunks; see {out / 'manifest.json'}")

    @groups.toptag.command("validate")
    def validate(
        directory: Annotated[Path, typer.Argument(help="jets folder")],
        out: Annotated[Path | None, typer.Option("--out", help="folder for the plots (default DIR/validation)")] = None,
        sample: Annotated[str, typer.Option("--sample", help="which sample to check: train, val or test")] = "train",
        reference: Annotated[
            bool, typer.Option("--reference", help="also compare with the reference dataset's figures (keraslab.toptag.reference)")
        ] = False,
    ) -> None:
        """Check checksums and physics (top mass, tau32, pT, eta, balance) and draw the validation plots.

        With --reference, also measure the reference dataset's figures (mass
        percentiles and window fractions, mass-only AUC and 1/eps_B, multiplicity)
        with their statistical uncertainties, PASS/FAIL against issue 10's targets.
        """
        from keraslab.toptag.reference import MIN_JETS_PER_CLASS
        from keraslab.toptag.validation import format_reference_table
        from keraslab.toptag.validation import validate as run_validation

        report = run_validation(directory, out or directory / "validation", sample=sample, reference=reference)
        for check in report["checks"]:
            print(f"{'ok  ' if check['passed'] else 'FAIL'} {check['name']}: {check['detail']}")
        if reference:
            print(f"\nreference checks on the {sample} sample ({report['jets']} jets; the targets are meant for "
                  f">= {MIN_JETS_PER_CLASS} jets per class; sources: keraslab.toptag.reference):")
            print("\n".join(format_reference_table(report["reference"])))
        print(f"plots: {', '.join(report['plots'])}")
        failed = sum(not c["passed"] for c in report["checks"] + report["reference"])
        if failed:
            raise UserError(f"{directory} failed {failed} check(s); see above")

    @groups.toptag.command("download")
    def download(
        server: Annotated[str, typer.Option("--server", help="the tutor's challenge server, e.g. http://10.0.0.5:8000")],
        out: Annotated[
            Path | None, typer.Option("--out", help="jets folder to create or finish (default $KERASLAB_JETS_DIR, else data/jets)")
        ] = None,
    ) -> None:
        """Download the class's jets folder from the tutor's server (keraslab challenge serve --data DIR).

        Checks every file's SHA-256; rerunning the same command resumes an
        interrupted download. Never replaces a file that differs.
        """
        from keraslab.toptag.dataset import default_jets_dir
        from keraslab.toptag.download import download as run_download

        out = out or default_jets_dir()
        files = run_download(server, out)
        total = sum(f["size"] for f in files)
        print(f"{out}: {len(files)} files, {total / 2**20:.1f} MiB, all checksums match; next: keraslab toptag validate {out}")

    @groups.toptag.command("derive")
    def derive(directory: Annotated[Path, typer.Argument(help="folder with reference-format train.h5, val.h5, test.h5")]) -> None:
        """Write {split}_images.h5 and {split}_features.h5 beside reference-format files (e.g. the Zenodo ones)."""
        from keraslab.toptag.derive import derive as run_derive

        for path in run_derive(directory):
            print(path)

    @groups.run.command(CUT_BASELINE)
    def baseline(
        data: Annotated[Path, typer.Option("--data", help="jets folder (uses train and test features)")],
        out: Annotated[Path, typer.Option("--out", help="run folder for metrics.json and the ROC plot")],
        overwrite: Annotated[bool, typer.Option("--overwrite", help="replace a previous run in --out")] = False,
    ) -> None:
        """Cut-based top tagger: a jet-mass window and a tau32 cut; AUC and 1/eps_B at eps_S = 0.3."""
        from keraslab.toptag.baseline import run_baseline

        metrics = run_baseline(data, out, overwrite=overwrite)
        print(f"mass window [{metrics['mass_window'][0]:.0f}, {metrics['mass_window'][1]:.0f}] GeV, "
              f"{_figures(metrics)}; {out / 'metrics.json'}")

    @groups.run.command(NSUB_BASELINE)
    def nsub(
        data: Annotated[Path, typer.Option("--data", help="jets folder (uses train and test features)")],
        out: Annotated[Path, typer.Option("--out", help="run folder for metrics.json and the ROC plot")],
        overwrite: Annotated[bool, typer.Option("--overwrite", help="replace a previous run in --out")] = False,
        seed: Annotated[int, typer.Option("--seed", help="seed of the classifier's early-stopping split")] = 0,
        workers: Annotated[int, typer.Option("--workers", min=1, help="processes computing N-subjettiness")] = 1,
    ) -> None:
        """nsub+m: gradient boosting on mass and N-subjettiness; AUC and 1/eps_B at eps_S = 0.3 with uncertainties."""
        from keraslab.toptag.baseline import run_nsub_baseline

        metrics = run_nsub_baseline(data, out, overwrite=overwrite, seed=seed, workers=workers)
        print(f"nsub+m on {', '.join(metrics['features'])}: {_figures(metrics)}; {out / 'metrics.json'}")


def _figures(metrics: dict) -> str:
    """AUC +- uncertainty and 1/eps_B at eps_S = 0.3 with its interval and passing QCD jets, for one line."""
    low, high = metrics["rejection_at_30_interval"]
    return (f"AUC {metrics['auc']:.3f} ± {metrics['auc_uncertainty']:.3f}, 1/eps_B at eps_S=0.3: "
            f"{metrics['rejection_at_30']:.1f} (68 % binomial: {low:.1f}-{high:.1f}; "
            f"{metrics['background_passing_at_30']} of {metrics['n_test_background']} QCD jets pass)")
