"""``keraslab scan PART``: "play with the parameters" as one shared Optuna study, for a class or a cluster.

Every part of day one and every day-two network has a search space in its catalog
entry (``search_space``, see ``keraslab.search_space``). A scan samples one trial's
options from it, runs the part's own runner into a normal run folder
(``OUT/trial-0007/``), and reports the validation loss per epoch to Optuna, which
prunes unpromising trials (``optuna_integration.KerasPruningCallback``). The study
lives in a relational storage: SQLite by default, or any SQLAlchemy URL such as the
challenge's PostgreSQL. Any number of ``keraslab scan`` processes with the same
``--study`` and ``--storage`` share it, on one machine or many; ``--trials N`` stops
every one of them once the study holds N finished trials. Workers send a heartbeat: a
trial whose worker died is marked failed by the next worker (after ``GRACE_SECONDS``)
and the study goes on.

``keraslab scan report`` writes one self-contained HTML page with Optuna's own
figures (plotly, embedded once); ``keraslab scan dashboard`` serves optuna-dashboard.
"""

from __future__ import annotations

import dataclasses
import html
import os
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer

from keraslab.day1.catalog import PARTS, Part
from keraslab.errors import UserError, needs_extra
from keraslab.search_space import Space, describe, suggest
from keraslab.toptag.catalog import MODELS, ModelSpec

DEFAULT_STORAGE = "sqlite:///runs/scans.db"
# A scan always validates: parts that train on every sample hold out this share to validate
SCAN_VALIDATION = 1 / 6
MONITOR = "val_loss"
# Heartbeats let a study notice a killed worker: its running trial is failed once it has been silent
# for GRACE_SECONDS (KERASLAB_SCAN_HEARTBEAT_SECONDS shortens both, for tests).
HEARTBEAT_SECONDS = int(os.environ.get("KERASLAB_SCAN_HEARTBEAT_SECONDS", "10"))
# six missed beats: a worker slowed down by a loaded machine or a busy SQLite file is not taken for dead
GRACE_SECONDS = 6 * HEARTBEAT_SECONDS
FINISHED_STATES = ("COMPLETE", "PRUNED")  # the trials --trials counts

scan_app = typer.Typer(help="Hyperparameter scans shared through an Optuna study: one command per part, "
                            "report, dashboard.", no_args_is_help=True)

Study = Annotated[str, typer.Option("--study", help="Study name; every worker of one scan uses the same.")]
Storage = Annotated[str, typer.Option("--storage", help="Study storage: a SQLAlchemy URL, e.g. sqlite:///runs/scans.db "
                                      "or postgresql://user@host/db.")]


def _space(part: str) -> Space:
    entry = PARTS.get(part) or MODELS[part]
    if not entry.search_space:
        raise UserError(f"part {part} has an empty search space; give it one in its catalog entry (search_space)")
    return entry.search_space


def open_storage(url: str):
    """The Optuna storage at ``url`` with heartbeats; a one-line error if it cannot be reached."""
    with needs_extra("scan"):
        import optuna
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        # SQLite: wait for a writer of another worker instead of failing at once
        engine = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {"pool_pre_ping": True}
        with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna's API, and what we need
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(url, engine_kwargs=engine, heartbeat_interval=HEARTBEAT_SECONDS,
                                              grace_period=GRACE_SECONDS)
    except Exception as err:  # noqa: BLE001 - SQLAlchemy raises many kinds; the user needs one line
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise UserError(f"cannot open the study storage {url} ({reason}); check --storage") from None


def _pruner():
    """Stop a trial whose validation loss is worse than the median of earlier trials at the same epoch,
    once three trials have finished and after its first epoch."""
    import optuna

    return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)


def open_study(part: str, study: str, storage_url: str, create: bool = True):
    """The study ``study`` for ``part``: created if new; a UserError if it scans another part."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(storage_url)
    names = {summary.study_name for summary in optuna.get_all_study_summaries(storage)}
    if study not in names:
        if not create:
            raise UserError(f"no study {study!r} in {storage_url}; studies there: {', '.join(sorted(names)) or 'none'}")
        opened = optuna.create_study(study_name=study, storage=storage, direction="minimize", pruner=_pruner())
        opened.set_user_attr("part", part)
        return opened
    opened = optuna.load_study(study_name=study, storage=storage, pruner=_pruner())
    scanned = opened.user_attrs.get("part")
    if part and scanned != part:
        raise UserError(f"study {study!r} scans part {scanned}, not {part}; choose another --study")
    return opened


def _run_day1(part: Part, out: Path, options: dict[str, Any], data_dir: Path | None) -> dict:
    """One trial of a day-one part: its runner with the part's recipe, overridden by the trial's ``options``."""
    from keraslab.day1 import parts

    validated = part if part.validation else dataclasses.replace(part, validation=SCAN_VALIDATION)
    recipe = {"batch_size": part.batch_size, "epochs": part.epochs, "verbose": 0}
    if "data-dir" in part.options:
        recipe["data_dir"] = data_dir
    if part.runner == "overtraining":  # one variant per trial, trained with the part's own optimiser
        variant = options.pop("variants")
        return parts.overtraining(validated, out, variants=[variant], **{**recipe, **options})
    recipe |= {"optimizer": part.optimizer, "learning_rate": part.learning_rate}
    if part.samples is not None:
        recipe |= {"samples": part.samples, "seed": 0}
    return getattr(parts, part.runner)(validated, out, **{**recipe, **options})


def _run_toptag(model: ModelSpec, out: Path, options: dict[str, Any], data: Path) -> dict:
    from keraslab.toptag.runs import TrainingOptions, train

    return train(model.name, data, out, TrainingOptions(**options))


def _objective(part: str, out: Path, fixed: dict[str, Any], data: Path | None):
    """Optuna's objective: one trial = one run folder of ``part``; the value is its final validation loss."""
    import optuna
    from optuna_integration import KerasPruningCallback

    from keraslab import training

    def objective(trial: optuna.Trial) -> float:
        options = {**suggest(trial, {k: v for k, v in _space(part).items() if k not in fixed}), **fixed}
        run_dir = out / f"trial-{trial.number:04d}"
        trial.set_user_attr("run_folder", str(run_dir))
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        print(f"trial {trial.number}: {options}", flush=True)
        with training.also_calling(KerasPruningCallback(trial, MONITOR)):
            if part in PARTS:
                metrics = _run_day1(PARTS[part], run_dir, options, data)
            else:
                metrics = _run_toptag(MODELS[part], run_dir, options, data)
        value = metrics.get(MONITOR)
        if value is None:
            raise UserError(f"trial {trial.number} recorded no {MONITOR} in {run_dir}/metrics.json")
        for key in ("test_accuracy", "val_accuracy", "auc", "rejection_at_30", "fit_seconds"):
            if key in metrics:
                trial.set_user_attr(key, metrics[key])
        print(f"trial {trial.number}: {MONITOR} {value:.4g} -> {run_dir}", flush=True)
        return float(value)

    return objective


def run_scan(part: str, *, study: str, storage: str, trials: int, timeout: float | None, out: Path,
             fixed: dict[str, Any], data: Path | None = None) -> None:
    """Add trials to ``study`` until it holds ``trials`` finished ones or ``timeout`` seconds have passed."""
    from optuna.study import MaxTrialsCallback
    from optuna.trial import TrialState

    opened = open_study(part, study, storage)
    counted = tuple(TrialState[state] for state in FINISHED_STATES)
    finished = len(opened.get_trials(deepcopy=False, states=counted))
    if finished >= trials:
        print(f"study {study} already holds {finished} finished trials (--trials {trials}): nothing to add; "
              "ask for more with a larger --trials")
        _print_summary(opened)
        return
    stop = MaxTrialsCallback(trials, states=counted)
    # a diverging trial (NaN loss) fails with its reason; the study goes on
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            break
        try:
            opened.optimize(_objective(part, out, fixed, data), n_trials=trials, timeout=left, callbacks=[stop],
                            catch=(UserError, FloatingPointError))
            break
        except ValueError as err:  # Optuna: "Cannot tell a FAIL trial."
            if "Cannot tell" not in str(err):
                raise
            # another worker took this one for dead (its heartbeat was late) and failed its trial; go on
            print(f"this worker's trial was marked failed by another worker ({err}); going on", flush=True)
    _print_summary(opened)


def _print_summary(study) -> None:
    counts: dict[str, int] = {}
    for trial in study.get_trials(deepcopy=False):
        counts[trial.state.name] = counts.get(trial.state.name, 0) + 1
    print("study " + study.study_name + ": " + ", ".join(f"{n} {state.lower()}" for state, n in sorted(counts.items())))
    try:
        best = study.best_trial
    except ValueError:
        return
    print(f"best: trial {best.number}, {MONITOR} {best.value:.4g}, {best.params}")


def _scan_command(part: str, summary: str, space: Space, takes_data: str | None):
    def command(
        study: Study = "",
        storage: Storage = DEFAULT_STORAGE,
        trials: Annotated[int, typer.Option("--trials", min=1, help="Stop once the study holds this many finished "
                                            "trials (all workers together).")] = 20,
        timeout: Annotated[float | None, typer.Option("--timeout", min=1, help="Stop this process after this many "
                                                      "seconds (after its current trial).")] = None,
        workers: Annotated[int, typer.Option("--workers", min=1, help="Local worker processes.")] = 1,
        epochs: Annotated[int | None, typer.Option("--epochs", min=1, help="Fix the epochs instead of scanning "
                                                   "them.")] = None,
        out: Annotated[Path | None, typer.Option("--out", help="Folder of the trials' run folders "
                                                 "(default: runs/scans/STUDY).")] = None,
        data: Annotated[Path | None, typer.Option("--data", help="Jets folder (day two) or Fashion-MNIST folder "
                                                  "(else $KERASLAB_FASHION_MNIST_DIR).")] = None,
    ) -> None:
        name = study or part
        if takes_data == "jets" and data is None:
            raise UserError(f"scanning {part} needs --data DIR, a jets folder from `keraslab toptag generate`")
        open_study(part, name, storage)  # before any worker starts: one creates it, all check it
        out = out or Path("runs/scans") / name
        print(f"keraslab scan {part}: study {name!r} in {storage}; {describe(space)}", flush=True)
        if workers > 1:
            _start_workers(workers, part, name, storage, trials, timeout, epochs, out, data)
            return
        from keraslab.backend import select

        preferred = PARTS[part].backend if part in PARTS else MODELS[part].backend
        backend, reason = select(preferred)
        print(f"Keras backend {backend} ({reason})", flush=True)
        run_scan(part, study=name, storage=storage, trials=trials, timeout=timeout, out=out,
                 fixed={"epochs": epochs} if epochs else {}, data=data)

    command.__doc__ = summary
    return command


def _start_workers(workers: int, part: str, study: str, storage: str, trials: int, timeout: float | None,
                   epochs: int | None, out: Path, data: Path | None) -> None:
    command = [sys.executable, "-m", "keraslab.cli", "scan", part, "--study", study, "--storage", storage,
               "--trials", str(trials), "--out", str(out)]
    for flag, value in (("--timeout", timeout), ("--epochs", epochs), ("--data", data)):
        if value is not None:
            command += [flag, str(value)]
    print(f"starting {workers} workers: {' '.join(command)}", flush=True)
    processes = [subprocess.Popen(command) for _ in range(workers)]
    codes = [process.wait() for process in processes]
    if any(codes):
        raise UserError(f"{sum(1 for c in codes if c)} of {workers} workers failed (exit codes {codes}); "
                        "the study keeps every finished trial: run the command again to go on")


def write_report(study, path: Path) -> Path:
    """One self-contained HTML page: the best trials, then Optuna's own figures (plotly embedded once)."""
    from optuna import visualization

    trials = study.trials_dataframe(attrs=("number", "value", "params", "state", "duration", "user_attrs"))
    finished = trials[trials["state"] == "COMPLETE"].sort_values("value").head(15)
    drop = [c for c in finished.columns if c in ("user_attrs_run_folder", "user_attrs_worker")]
    table = finished.drop(columns=drop).to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0)
    figures = []
    for title, draw in (("Optimisation history", visualization.plot_optimization_history),
                        ("Parameter importances", visualization.plot_param_importances),
                        ("Parallel coordinates", visualization.plot_parallel_coordinate),
                        ("Slices", visualization.plot_slice),
                        ("Intermediate values (pruning)", visualization.plot_intermediate_values)):
        try:
            figure = draw(study)
        except (ValueError, RuntimeError) as err:  # e.g. importances need two finished trials
            figures.append(f"<h2>{title}</h2><p>not drawn: {html.escape(str(err))}</p>")
            continue
        figures.append(f"<h2>{title}</h2>" + figure.to_html(full_html=False, include_plotlyjs=not any(
            "plotly" in f for f in figures)))
    counts = trials["state"].value_counts().to_dict()
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>keraslab scan: {html.escape(study.study_name)}</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:auto;padding:1em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}</style></head>
<body><h1>keraslab scan: study {html.escape(study.study_name)} (part {html.escape(str(study.user_attrs.get("part")))})</h1>
<p>Trials: {html.escape(", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items())))}. The value is the final
validation loss ({MONITOR}); lower is better. The best finished trials:</p>
{table}
{''.join(figures)}
</body></html>
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page)
    return path


@scan_app.command("report")
def report(study: Study, storage: Storage = DEFAULT_STORAGE,
           out: Annotated[Path, typer.Option("--out", help="The HTML page to write.")] = Path("report/scan.html")) -> None:
    """Write one self-contained HTML page of a study: best trials, history, importances, coordinates, slices."""
    opened = open_study("", study, storage, create=False)
    import optuna

    optuna.storages.fail_stale_trials(opened)  # a killed worker's trial shows as failed
    _print_summary(opened)
    print(f"report: {write_report(opened, out)}")


@scan_app.command("dashboard")
def dashboard(storage: Storage = DEFAULT_STORAGE,
              port: Annotated[int, typer.Option("--port", help="Port on this machine.")] = 8080,
              host: Annotated[str, typer.Option("--host", help="Address to listen on (0.0.0.0: the whole network).")]
              = "127.0.0.1") -> None:
    """Serve optuna-dashboard on the storage: a live view of every study in it (offline; Ctrl-C stops it)."""
    with needs_extra("scan"):
        from optuna_dashboard import run_server
    print(f"optuna-dashboard on http://{host}:{port}/ for {storage}", flush=True)
    run_server(open_storage(storage), host=host, port=port)


def register(groups) -> None:
    """Add ``keraslab scan PART`` for every day-one part and day-two network, and scan report / dashboard."""
    for name, part in PARTS.items():
        if part.search_space:
            takes = "fashion" if "data-dir" in part.options else None
            scan_app.command(name)(_scan_command(name, f"Scan {name}: {describe(part.search_space)}.",
                                                 part.search_space, takes))
    for name, model in MODELS.items():
        scan_app.command(name)(_scan_command(name, f"Scan {name} (needs --data): {describe(model.search_space)}.",
                                             model.search_space, "jets"))
    groups.app.add_typer(scan_app, name="scan")
