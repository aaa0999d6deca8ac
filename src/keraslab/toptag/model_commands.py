"""Command line of the day-two networks.

``keraslab run toptag-dnn|toptag-image-dense|toptag-cnn|toptag-cnn-improved|toptag-pfn|toptag-particlenet``,
``keraslab toptag compare`` and ``keraslab toptag predict``. Keras is imported
inside the commands, after the backend is chosen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from keraslab.toptag.catalog import MODELS

DataOption = Annotated[Path, typer.Option("--data", help="Jets folder: train.h5, val.h5, test.h5 and their _images.h5 files.")]
JetsOption = Annotated[int | None, typer.Option("--jets", help="Training jets to read from train.h5 (default: all).", min=1)]
EvalJetsOption = Annotated[int | None, typer.Option("--eval-jets", help="Validation and test jets to read (default: all).", min=1)]
EpochsOption = Annotated[int | None, typer.Option("--epochs", help="Epochs (default: the model's).", min=1)]
BatchOption = Annotated[int | None, typer.Option("--batch-size", help="Batch size (default: the model's).", min=1)]


def _run_command(name: str):
    def command(
        data: DataOption,
        out: Annotated[Path, typer.Option("--out", help="Run folder to write (model, metrics.json, plots).")],
        jets: JetsOption = None,
        eval_jets: EvalJetsOption = None,
        epochs: EpochsOption = None,
        batch_size: BatchOption = None,
        learning_rate: Annotated[float | None, typer.Option("--learning-rate", help="Adam learning rate.", min=0)] = None,
        constituents: Annotated[int | None, typer.Option("--constituents", help="Particle networks: hardest constituents kept.", min=1)] = None,
        patience: Annotated[int | None, typer.Option(
            "--patience", min=0, help="Stop after this many epochs without a lower validation loss and keep the best "
            "epoch's weights (default: the model's, 3; 0: run every epoch).")] = None,
        seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 42,
        resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run in --out.")] = False,
        overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace the run already in --out.")] = False,
    ) -> None:
        from keraslab.toptag.runs import TrainingOptions, train

        options = TrainingOptions(jets=jets, eval_jets=eval_jets, epochs=epochs, batch_size=batch_size,
                                  learning_rate=learning_rate, constituents=constituents, patience=patience,
                                  seed=seed)
        train(name, data, out, options, resume=resume, overwrite=overwrite)

    command.__doc__ = f"Train {MODELS[name].summary}; write a run folder with test AUC and 1/eps_B."
    return command


def register(groups) -> None:
    """Add the day-two network commands to ``keraslab run`` and ``keraslab toptag``."""
    for name in MODELS:
        groups.run.command(name)(_run_command(name))

    @groups.toptag.command("compare")
    def compare(
        data: DataOption,
        out: Annotated[Path, typer.Option("--out", help="Folder for every run, the table and the ROC plot.")],
        jets: JetsOption = None,
        eval_jets: EvalJetsOption = None,
        epochs: Annotated[int | None, typer.Option("--epochs", help="Epochs for every network (default: each model's).", min=1)] = None,
        models: Annotated[str | None, typer.Option("--models", help="Comma-separated networks (default: all).")] = None,
        retrain: Annotated[bool, typer.Option("--retrain", help="Train again runs already in --out.")] = False,
        allow_small: Annotated[bool, typer.Option(
            "--allow-small", help="Compare on a test sample with fewer than 50,000 QCD jets (outputs marked SMALL SAMPLE).")] = False,
        workers: Annotated[int, typer.Option("--workers", min=1, help="Processes computing N-subjettiness for nsub+m.")] = 1,
    ) -> None:
        """Train (or reuse) the cut-based and nsub+m baselines and every network on the same jets; one table with
        uncertainties, one ROC plot. Refuses a test sample with fewer than 50,000 QCD jets unless --allow-small."""
        from keraslab.toptag.comparison import compare as run_comparison
        from keraslab.toptag.comparison import parse_models

        run_comparison(data, out, parse_models(models), jets=jets, eval_jets=eval_jets, epochs=epochs, retrain=retrain,
                       allow_small=allow_small, workers=workers)

    @groups.toptag.command("predict")
    def predict(
        model: Annotated[Path, typer.Option("--model", help="A finished run folder (keraslab run toptag-...).")],
        data: Annotated[Path, typer.Option("--data", help="Constituents file to score, e.g. DIR/challenge.h5.")],
        out: Annotated[Path, typer.Option("--out", help="Where to write the scores (.npy).")] = Path("result.npy"),
        overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing --out file.")] = False,
    ) -> None:
        """Write the top probability of every jet in --data, in file order, as the challenge expects."""
        from keraslab.toptag.prediction import predict_file

        predict_file(model, data, out, overwrite=overwrite)
