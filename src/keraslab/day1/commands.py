"""``keraslab run PART`` for every part of ``catalog.PARTS`` (``keraslab lab`` runs them all: ``keraslab.lab``).

Each part's command is generated from its catalog entry: its options are the entry's
``options`` (defaults from the entry, the network's own from its builder's keyword
defaults), and it calls the entry's ``runner`` in ``parts.py``. Keras is imported
inside the command, after ``keraslab.backend.select`` has picked the part's backend.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from keraslab.day1 import networks
from keraslab.day1.catalog import PARTS, Part
from keraslab.errors import UserError, parse_choices

Out = Annotated[Path | None, typer.Option("--out", help="Run folder (default: runs/PART).")]
Resume = Annotated[bool, typer.Option("--resume", help="Continue an interrupted run from its last finished epoch.")]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace the previous run in --out.")]
Devices = Annotated[str | None, typer.Option("--devices", help="Train data-parallel on N devices (or all) through "
                                             "keras.distribution; JAX backend only.")]
DATA_DIR_HELP = ("Folder with the four Fashion-MNIST IDX .gz files "
                 "(else $KERASLAB_FASHION_MNIST_DIR, else Keras' download cache).")
DataDir = Annotated[Path | None, typer.Option("--data-dir", help=DATA_DIR_HELP)]
SIZE_LISTS = ("layers", "filters")  # options given as comma-separated positive integers


def parse_sizes(option: str, text: str) -> tuple[int, ...]:
    """'100,100,100' -> (100, 100, 100); positive integers only, else a UserError naming ``option``."""
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise UserError(f"{option} must be comma-separated positive integers like 100,100, got {text!r}") from None
    if any(size <= 0 for size in sizes):
        raise UserError(f"{option} must be positive numbers, got {text!r}")
    return sizes


def _option(flag: str, kind: Any, help: str, default: Any = None, **limits: Any) -> inspect.Parameter:
    """The command parameter behind ``flag`` (--batch-size -> batch_size)."""
    return inspect.Parameter(flag.removeprefix("--").replace("-", "_"), inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=Annotated[kind, typer.Option(flag, help=help, **limits)])


def _network_default(part: Part, keyword: str) -> Any:
    """The default of ``keyword`` in the builder of the part's network (read without importing Keras)."""
    return inspect.signature(networks.BUILDERS[part.networks[0]]).parameters[keyword].default


def _sizes_help(part: Part, what: str, value: int) -> str:
    return f"{what} (slides: {value})." if part.slides_sizes else f"{what}."


# Every option a part may list in catalog.Part.options, made for that part
OPTIONS: dict[str, Callable[[Part], inspect.Parameter]] = {
    "samples": lambda part: _option("--samples", int, "Number of generated samples.", part.samples, min=1),
    "data-dir": lambda part: _option("--data-dir", Path | None, DATA_DIR_HELP),
    "layers": lambda part: _option("--layers", str | None, "Hidden units per layer, comma-separated, e.g. 100,100,100."),
    "activation": lambda part: _option("--activation", str, "Hidden-layer activation: relu, tanh, sigmoid, elu, selu, "
                                       "gelu, swish.", _network_default(part, "activation")),
    "filters": lambda part: _option("--filters", str, "Conv2D filters per block, comma-separated.",
                                    ",".join(map(str, _network_default(part, "filters")))),
    "dense": lambda part: _option("--dense", int, "Units of the dense layer.", _network_default(part, "dense"), min=1),
    "dropout": lambda part: _option("--dropout", float, "Dropout rate before the dense layer.",
                                    _network_default(part, "dropout"), min=0.0, max=0.99),
    "variants": lambda part: _option("--variants", str, "Comma-separated networks to compare.", ",".join(part.networks)),
    "optimizer": lambda part: _option("--optimizer", str, "sgd, sgd-momentum (0.9) or adam.", part.optimizer),
    "learning-rate": lambda part: _option(
        "--learning-rate", float,
        "Peak learning rate of the cosine decay to 0." if part.schedule == "cosine" else "Optimiser learning rate.",
        part.learning_rate),
    "batch-size": lambda part: _option("--batch-size", int, _sizes_help(part, "Batch size", part.batch_size),
                                       part.batch_size, min=1),
    "epochs": lambda part: _option("--epochs", int, _sizes_help(part, "Training epochs", part.epochs), part.epochs,
                                   min=1),
    "seed": lambda part: _option("--seed", int, "Seed of the generated data, the initial weights and the shuffling.", 0),
    "precision": lambda part: _option("--precision", str, "auto (bfloat16 where the CPU has it natively), float32 or "
                                      "mixed_bfloat16.", "auto"),
}


def _parsed(part: Part, options: dict[str, Any]) -> dict[str, Any]:
    """The command's options as the part's runner takes them; an unset one (None) keeps the runner's or builder's default."""
    parsed = {name: value for name, value in options.items() if value is not None}
    for name in SIZE_LISTS:
        if name in parsed:
            parsed[name] = parse_sizes(f"--{name}", parsed[name])
    if "variants" in parsed:
        parsed["variants"] = parse_choices("variant", parsed["variants"], part.networks)
    return parsed


def _finish(part: str, out: Path, metrics: dict) -> None:
    shown = {k: metrics[k] for k in ("params", "epochs_run", "fit_seconds", "loss", "val_loss", "val_accuracy",
                                     "accuracy_by_hand", "test_accuracy", "best_variant", "backend") if k in metrics}
    print(f"\n{part}: " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items()))
    if "data_source" in metrics:
        print(f"Fashion-MNIST files: {metrics['data_source']}")
    print(f"run folder: {out}")


def _run_command(part: Part) -> Callable[..., None]:
    """``keraslab run PART``: its signature (what typer reads) is made from the part's options."""

    def command(out: Path | None, resume: bool, overwrite: bool, devices: str | None, **options: Any) -> None:
        from keraslab.backend import data_parallel, select

        backend, reason = select(part.backend)  # before Keras is imported
        print(f"keraslab run {part.name}: Keras backend {backend} ({reason})", flush=True)
        if (count := data_parallel(devices)) > 1:
            print(f"data-parallel on {count} devices", flush=True)
        out = out or Path("runs") / part.name
        from keraslab.day1 import parts

        run = getattr(parts, part.runner)
        _finish(part.name, out, run(part, out, resume=resume, overwrite=overwrite, **_parsed(part, options)))

    keyword = inspect.Parameter.KEYWORD_ONLY
    command.__signature__ = inspect.Signature([
        inspect.Parameter("out", keyword, default=None, annotation=Out),
        *(OPTIONS[name](part) for name in part.options),
        inspect.Parameter("resume", keyword, default=False, annotation=Resume),
        inspect.Parameter("overwrite", keyword, default=False, annotation=Overwrite),
        inspect.Parameter("devices", keyword, default=None, annotation=Devices),
    ])
    command.__doc__ = part.summary
    return command


def register(groups) -> None:
    """Add ``keraslab run PART`` for every day-one part."""
    for part in PARTS.values():
        groups.run.command(part.name)(_run_command(part))
