"""``keraslab run regression|classification|fashion-mnist|overtraining|cnn`` and ``keraslab lab``.

Keras is imported inside each command, after ``keraslab.backend.select`` has picked
the part's backend (JAX for the dense parts, TensorFlow for the CNN, unless
``KERAS_BACKEND`` is set).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from keraslab.backend import PREFERRED
from keraslab.day1.settings import (CLASSIFICATION, CNN, CNN_DENSE, CNN_DROPOUT, FASHION_MLP, OVERTRAINING,
                                    OVERTRAINING_VARIANTS, REGRESSION)
from keraslab.errors import UserError

PARTS = tuple(PREFERRED)  # regression, classification, fashion-mnist, overtraining, cnn

Out = Annotated[Path | None, typer.Option("--out", help="Run folder (default: runs/PART).")]
Resume = Annotated[bool, typer.Option("--resume", help="Continue an interrupted run from its last finished epoch.")]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace the previous run in --out.")]
DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Folder with the four Fashion-MNIST IDX .gz files "
                                              "(else $KERASLAB_FASHION_MNIST_DIR, else Keras' download cache).")]
Layers = Annotated[str | None, typer.Option("--layers", help="Hidden units per layer, comma-separated, e.g. 100,100,100.")]
Activation = Annotated[str, typer.Option("--activation", help="Hidden-layer activation: relu, tanh, sigmoid, elu, selu, gelu, swish.")]
Optimizer = Annotated[str, typer.Option("--optimizer", help="sgd, sgd-momentum (0.9) or adam.")]
LearningRate = Annotated[float, typer.Option("--learning-rate", help="Optimiser learning rate.")]
Samples = Annotated[int, typer.Option("--samples", min=1, help="Number of generated samples.")]
Seed = Annotated[int, typer.Option("--seed", help="Seed of the generated data.")]


def _epochs(default: int):
    return Annotated[int, typer.Option("--epochs", min=1, help=f"Training epochs (slides: {default}).")]


def _batch(default: int):
    return Annotated[int, typer.Option("--batch-size", min=1, help=f"Batch size (slides: {default}).")]


def parse_layers(text: str | None, default: tuple[int, ...]) -> tuple[int, ...]:
    """'100,100,100' -> (100, 100, 100); positive integers only."""
    if text is None:
        return default
    try:
        layers = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise UserError(f"--layers must be comma-separated positive integers like 100,100, got {text!r}") from None
    if any(units <= 0 for units in layers):
        raise UserError(f"--layers must be positive numbers of nodes, got {text!r}")
    return layers


def _start(part: str, out: Path | None) -> Path:
    """Choose the backend (before Keras is imported) and say which, and why."""
    from keraslab.backend import select

    backend, reason = select(PREFERRED[part])
    print(f"keraslab run {part}: Keras backend {backend} ({reason})", flush=True)
    return out or Path("runs") / part


def _finish(part: str, out: Path, metrics: dict) -> None:
    shown = {k: metrics[k] for k in ("params", "epochs_run", "fit_seconds", "loss", "val_loss", "val_accuracy",
                                     "accuracy_by_hand", "test_accuracy", "best_variant", "backend") if k in metrics}
    print(f"\n{part}: " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items()))
    if "data_source" in metrics:
        print(f"Fashion-MNIST files: {metrics['data_source']}")
    print(f"run folder: {out}")


def register(groups) -> None:
    """Add the day-one commands to the CLI."""

    @groups.run.command("regression")
    def run_regression(
        out: Out = None, samples: Samples = REGRESSION.samples, layers: Layers = None,
        activation: Activation = REGRESSION.activation, optimizer: Optimizer = REGRESSION.optimizer,
        learning_rate: LearningRate = REGRESSION.learning_rate, batch_size: _batch(REGRESSION.batch_size) = REGRESSION.batch_size,
        epochs: _epochs(REGRESSION.epochs) = REGRESSION.epochs, seed: Seed = 0, resume: Resume = False,
        overwrite: Overwrite = False,
    ) -> None:
        """Part One: regression of y = sin(sum x^2) with a 20-30 network (881 parameters)."""
        out = _start("regression", out)
        from keraslab.day1 import parts

        _finish("regression", out, parts.regression(
            out, samples=samples, layers=parse_layers(layers, REGRESSION.layers), activation=activation,
            optimizer=optimizer, learning_rate=learning_rate, batch_size=batch_size, epochs=epochs, seed=seed,
            resume=resume, overwrite=overwrite))

    @groups.run.command("classification")
    def run_classification(
        out: Out = None, samples: Samples = CLASSIFICATION.samples, layers: Layers = None,
        activation: Activation = CLASSIFICATION.activation, optimizer: Optimizer = CLASSIFICATION.optimizer,
        learning_rate: LearningRate = CLASSIFICATION.learning_rate,
        batch_size: _batch(CLASSIFICATION.batch_size) = CLASSIFICATION.batch_size,
        epochs: _epochs(CLASSIFICATION.epochs) = CLASSIFICATION.epochs, seed: Seed = 0, resume: Resume = False,
        overwrite: Overwrite = False,
    ) -> None:
        """Part Two: binary classification, sin(sum x^2) >= 0, with a 100-100 network (11,301 parameters)."""
        out = _start("classification", out)
        from keraslab.day1 import parts

        _finish("classification", out, parts.classification(
            out, samples=samples, layers=parse_layers(layers, CLASSIFICATION.layers), activation=activation,
            optimizer=optimizer, learning_rate=learning_rate, batch_size=batch_size, epochs=epochs, seed=seed,
            resume=resume, overwrite=overwrite))

    @groups.run.command("fashion-mnist")
    def run_fashion_mnist(
        out: Out = None, data_dir: DataDir = None, layers: Layers = None,
        activation: Activation = FASHION_MLP.activation, optimizer: Optimizer = FASHION_MLP.optimizer,
        learning_rate: LearningRate = FASHION_MLP.learning_rate,
        batch_size: _batch(FASHION_MLP.batch_size) = FASHION_MLP.batch_size,
        epochs: _epochs(FASHION_MLP.epochs) = FASHION_MLP.epochs, resume: Resume = False, overwrite: Overwrite = False,
    ) -> None:
        """Fashion-MNIST with the slides' 512-512 network (669,706 parameters), evaluated on the test set."""
        out = _start("fashion-mnist", out)
        from keraslab.day1 import parts

        _finish("fashion-mnist", out, parts.fashion_mnist_mlp(
            out, data_dir=data_dir, layers=parse_layers(layers, FASHION_MLP.layers), activation=activation,
            optimizer=optimizer, learning_rate=learning_rate, batch_size=batch_size, epochs=epochs, resume=resume,
            overwrite=overwrite))

    @groups.run.command("overtraining")
    def run_overtraining(
        out: Out = None, data_dir: DataDir = None,
        variants: Annotated[str, typer.Option("--variants", help="Comma-separated networks to compare.")] =
        ",".join(OVERTRAINING_VARIANTS),
        batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Batch size.")] = OVERTRAINING.batch_size,
        epochs: Annotated[int, typer.Option("--epochs", min=1, help="Training epochs.")] = OVERTRAINING.epochs,
        resume: Resume = False, overwrite: Overwrite = False,
    ) -> None:
        """Over-training: the MLP with L2, BatchNormalization, Dropout(0.3) and a smaller 256-128 network."""
        out = _start("overtraining", out)
        from keraslab.day1 import parts

        _finish("overtraining", out, parts.overtraining(
            out, data_dir=data_dir, variants=[v.strip() for v in variants.split(",") if v.strip()],
            batch_size=batch_size, epochs=epochs, resume=resume, overwrite=overwrite))

    @groups.run.command("cnn")
    def run_cnn(
        out: Out = None, data_dir: DataDir = None,
        filters: Annotated[str, typer.Option("--filters", help="Conv2D filters per block, comma-separated.")] =
        ",".join(map(str, CNN.layers)),
        dense: Annotated[int, typer.Option("--dense", min=1, help="Units of the dense layer.")] = CNN_DENSE,
        dropout: Annotated[float, typer.Option("--dropout", min=0.0, max=0.99, help="Dropout rate before the dense layer.")] = CNN_DROPOUT,
        optimizer: Optimizer = CNN.optimizer,
        learning_rate: Annotated[float, typer.Option("--learning-rate", help="Peak learning rate of the cosine decay to 0.")] = CNN.learning_rate,
        batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Batch size.")] = CNN.batch_size,
        epochs: Annotated[int, typer.Option("--epochs", min=1, help="Training epochs.")] = CNN.epochs,
        precision: Annotated[str, typer.Option("--precision", help="auto (bfloat16 where the CPU has it natively), "
                                               "float32 or mixed_bfloat16.")] = "auto",
        resume: Resume = False, overwrite: Overwrite = False,
    ) -> None:
        """"Improve it!": a small convolutional network for Fashion-MNIST (TensorFlow backend by default)."""
        out = _start("cnn", out)
        from keraslab.day1 import parts

        _finish("cnn", out, parts.cnn(
            out, data_dir=data_dir, filters=parse_layers(filters, CNN.layers), dense=dense, dropout=dropout,
            optimizer=optimizer, learning_rate=learning_rate, batch_size=batch_size, epochs=epochs,
            precision=precision, resume=resume, overwrite=overwrite))

    @groups.app.command("lab")
    def lab(
        out: Annotated[Path, typer.Option("--out", help="Folder for the run folders of every part.")] = Path("runs/lab"),
        report: Annotated[Path, typer.Option("--report", help="The HTML report to write.")] = Path("report/index.html"),
        data_dir: DataDir = None,
        parts: Annotated[str, typer.Option("--parts", help="Comma-separated parts to run.")] = ",".join(PARTS),
        resume: Resume = False, overwrite: Overwrite = False,
    ) -> None:
        """Run every day-one part at the slides' sizes and write one self-contained HTML report."""
        from keraslab.day1 import report as report_module
        from keraslab.training import prepare_run_dir, resumable

        chosen = [p.strip() for p in parts.split(",") if p.strip()]
        unknown = [p for p in chosen if p not in PARTS]
        if unknown or not chosen:
            raise UserError(f"unknown part(s) {', '.join(unknown) or '(none given)'}; choose from: {', '.join(PARTS)}")
        report_module.check_writable(report)
        prepare_run_dir(out, resume=resume, overwrite=overwrite)
        for part in chosen:
            # one process per part: each part may use its own Keras backend
            command = [sys.executable, "-m", "keraslab.cli", "run", part, "--out", str(out / part)]
            if data_dir is not None and part in ("fashion-mnist", "overtraining", "cnn"):
                command += ["--data-dir", str(data_dir)]
            if resume and resumable(out / part):
                command.append("--resume")
            elif resume and (out / part).exists():  # stopped before its first epoch: nothing to keep
                command.append("--overwrite")
            print(f"\n##### keraslab lab: {part} #####", flush=True)
            code = subprocess.run(command).returncode
            if code != 0:
                raise UserError(f"part {part} failed (exit code {code}, message above); fix it and rerun with --resume")
        path = report_module.write_report(out, report, parts=chosen)
        print(f"\nreport: {path}")
