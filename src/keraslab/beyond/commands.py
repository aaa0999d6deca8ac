"""``keraslab run NAME`` for every topic of ``catalog.TOPICS``, generated from its entry.

Keras is imported inside the command, after ``keraslab.backend.select`` has picked
the topic's backend; the command then calls ``keraslab.beyond.<module>.run``.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from keraslab.beyond.catalog import TOPICS, Option, Topic
from keraslab.errors import UserError

Out = Annotated[Path | None, typer.Option("--out", help="Run folder (default: runs/NAME).")]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace the previous run in --out.")]


def _parameter(option: Option) -> inspect.Parameter:
    return inspect.Parameter(option.keyword, inspect.Parameter.KEYWORD_ONLY, default=option.default,
                             annotation=Annotated[option.kind, typer.Option(option.flag, help=option.help,
                                                                            **option.limits)])


def _finish(topic: Topic, out: Path, metrics: dict) -> None:
    shown = {k: metrics[k] for k in ("fit_seconds", *topic.report_metrics, "backend") if k in metrics}
    print(f"\n{topic.name}: " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                          for k, v in shown.items()))
    print(f"run folder: {out}")


def _run_command(topic: Topic) -> Callable[..., None]:
    def command(out: Path | None, overwrite: bool, **options: Any) -> None:
        from keraslab.backend import select

        backend, reason = select(topic.backend)  # before Keras is imported
        print(f"keraslab run {topic.name}: Keras backend {backend} ({reason})", flush=True)
        out = out or Path("runs") / topic.name
        if not overwrite and out.is_dir() and any(out.iterdir()):  # these parts start over; they do not resume
            raise UserError(f"{out} already holds files; pass --overwrite to replace that run, or choose another --out")
        module = importlib.import_module(f"keraslab.beyond.{topic.module}")
        _finish(topic, out, module.run(topic, out, overwrite=overwrite, **options))

    keyword = inspect.Parameter.KEYWORD_ONLY
    command.__signature__ = inspect.Signature([
        inspect.Parameter("out", keyword, default=None, annotation=Out),
        *(_parameter(option) for option in topic.options),
        inspect.Parameter("overwrite", keyword, default=False, annotation=Overwrite),
    ])
    command.__doc__ = topic.summary
    return command


def register(groups) -> None:
    """Add ``keraslab run NAME`` for every topic beyond the slides."""
    for topic in TOPICS.values():
        groups.run.command(topic.name)(_run_command(topic))
