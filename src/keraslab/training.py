"""Run folders: training a compiled Keras model with everything a lab run keeps.

Every part of keraslab (day one, the theory demos, the top-tagging networks) trains
through ``fit_run``, so every run folder holds the same files (listed in docs/day1.md,
"The run folder")::

    run_dir = prepare_run_dir(out, resume=resume, overwrite=overwrite)   # checks --out
    result = fit_run(model, (x, y), run_dir=run_dir, epochs=10, batch_size=32,
                     validation=0.2, resume=resume)                      # -> FitResult
    write_metrics(run_dir, {"test_accuracy": 0.89})                      # add your numbers

``prepare_run_dir``, ``write_metrics``, ``resumable``, ``read_json`` and ``write_json``
come from the Keras-free ``keraslab.run_folder`` and are re-exported here.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keraslab import figures
from keraslab.errors import UserError
from keraslab.run_folder import (  # noqa: F401  (re-exported, see above)
    MARKER,
    RESUME_FILE,
    prepare_run_dir,
    read_json,
    resumable,
    write_json,
    write_metrics,
)

FINAL_WEIGHTS = "model.weights.h5"
BEST_WEIGHTS = "best.weights.h5"  # with early stopping: the weights of the epoch with the lowest validation loss
# Callbacks every fit_run adds inside `with also_calling(...)`: keraslab scan hands its pruning callback to
# whichever fits a part's runner makes, without every runner taking a callbacks argument.
_ALSO_CALLING: contextvars.ContextVar[tuple] = contextvars.ContextVar("also_calling", default=())
# Testing hook: with KERASLAB_KILL_AFTER_EPOCH=k the process kills itself with SIGKILL right after
# epoch k is saved, the way a user's `kill -9` would, so that kill-and-resume can be tested.
KILL_AFTER_EPOCH_ENV = "KERASLAB_KILL_AFTER_EPOCH"


@contextlib.contextmanager
def also_calling(*callbacks: keras.callbacks.Callback):
    """Within this block every ``fit_run`` also calls ``callbacks``."""
    token = _ALSO_CALLING.set((*_ALSO_CALLING.get(), *callbacks))
    try:
        yield
    finally:
        _ALSO_CALLING.reset(token)


@dataclass
class FitResult:
    """What ``fit_run`` returns."""

    model: keras.Model
    history: dict[str, list[float]]
    fit_seconds: float  # inside model.fit, all sessions of this run together
    epochs_run: int
    resumed_from: int  # epochs already finished when this call started

    @property
    def final(self) -> dict[str, float]:
        """The last epoch's value of every recorded metric."""
        return {key: values[-1] for key, values in self.history.items() if values}


def write_summary(model: keras.Model, run_dir: Path) -> Path:
    """The model summary (layers, shapes, parameter counts) as text, printed too."""
    lines: list[str] = []
    model.summary(print_fn=lambda line, line_break=True: lines.append(line))
    text = "\n".join(lines) + "\n"
    print(text, end="")
    path = run_dir / "summary.txt"
    path.write_text(text)
    return path


def _learning_rate(model: keras.Model) -> float:
    return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))


def _save_state(model: keras.Model, path: Path) -> None:
    """Model and optimiser variables as one .npz (atomic).

    Not a .keras file: the model's structure comes from the caller on resume, and
    .keras serialisation imports TensorFlow (seconds) even under JAX.
    """
    arrays = {f"model/{i}": keras.ops.convert_to_numpy(v) for i, v in enumerate(model.variables)}
    arrays |= {f"optimizer/{i}": keras.ops.convert_to_numpy(v) for i, v in enumerate(model.optimizer.variables)}
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def _restore_state(model: keras.Model, path: Path) -> None:
    """Load what ``_save_state`` wrote into a freshly built and compiled ``model`` of the same network."""
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    with np.load(path) as saved:
        for prefix, variables in (("model", model.variables), ("optimizer", model.optimizer.variables)):
            count = sum(1 for key in saved.files if key.startswith(prefix + "/"))
            shapes_match = count == len(variables) and all(
                tuple(v.shape) == saved[f"{prefix}/{i}"].shape for i, v in enumerate(variables))
            if not shapes_match:
                raise UserError(f"the run in {path.parent} was trained with a different network or optimiser; "
                                "resume with the same options, or start again with --overwrite")
            for i, variable in enumerate(variables):
                variable.assign(saved[f"{prefix}/{i}"])


class _NaNGuard(keras.callbacks.Callback):
    """Stop at the first NaN or infinite loss (Keras' TerminateOnNaN, remembering where)."""

    def __init__(self) -> None:
        super().__init__()
        self.where: tuple[int, int] | None = None  # (epoch, batch), 1-based epoch
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch + 1

    def _check(self, batch: int, logs) -> None:
        loss = (logs or {}).get("loss")
        if self.where is None and loss is not None and not math.isfinite(float(loss)):
            self.where = (self._epoch, batch)
            self.model.stop_training = True

    def on_train_batch_end(self, batch, logs=None):
        self._check(batch + 1, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._check(-1, logs)


class _EpochRecorder(keras.callbacks.Callback):
    """After each finished epoch: checkpoint, history, resume state (in that order)."""

    def __init__(self, run_dir: Path, history: dict[str, list[float]], guard: _NaNGuard, state: dict) -> None:
        super().__init__()
        self.run_dir, self.history, self.guard, self.state = run_dir, history, guard, state
        self.base_seconds = float(state.get("fit_seconds", 0.0))
        self.started = time.perf_counter()
        kill = os.environ.get(KILL_AFTER_EPOCH_ENV)
        self.kill_after = int(kill) if kill else None

    def on_epoch_end(self, epoch, logs=None):
        if self.guard.where is not None:
            return  # never keep a NaN epoch
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        checkpoint = f"checkpoint-epoch{epoch + 1}.npz"
        _save_state(self.model, self.run_dir / checkpoint)
        previous = self.state.get("checkpoint")
        self.state.update(epochs_done=epoch + 1, checkpoint=checkpoint, history=self.history,
                          fit_seconds=self.base_seconds + time.perf_counter() - self.started)
        write_json(self.run_dir / RESUME_FILE, self.state)  # points at the new checkpoint ...
        if previous and previous != checkpoint:
            (self.run_dir / previous).unlink(missing_ok=True)  # ... so the old one can go
        write_json(self.run_dir / "history.json", self.history)
        if self.kill_after == epoch + 1:
            print(f"{KILL_AFTER_EPOCH_ENV}: killing this run after epoch {epoch + 1}", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)


def _early_stopping(run_dir: Path, patience: int, history: dict[str, list[float]]) -> list[keras.callbacks.Callback]:
    """EarlyStopping on the validation loss, and a ModelCheckpoint keeping the best epoch's weights;
    on resume both start from the best validation loss of the epochs already run."""
    previous_best = min(history["val_loss"]) if history.get("val_loss") else None
    return [
        keras.callbacks.ModelCheckpoint(run_dir / BEST_WEIGHTS, monitor="val_loss", save_best_only=True,
                                        save_weights_only=True, initial_value_threshold=previous_best),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, baseline=previous_best),
    ]


def _shardable(train, validation, batch_size: int, devices: int):
    """``train`` and ``validation`` cut so that every batch splits evenly across ``devices``.

    Data-parallel training gives each device an equal slice of every batch, the last
    one included: a validation share is split off as Keras does (the last samples) and
    each sample loses at most ``devices - 1`` samples at its end.
    """
    if batch_size % devices:
        raise UserError(f"the batch size {batch_size} must be a multiple of the {devices} devices")
    x, y = train
    if isinstance(validation, float):
        split = math.ceil(len(x) * (1 - validation))
        validation = (x[split:], y[split:])
        x, y = x[:split], y[:split]

    def trimmed(sample):
        keep = len(sample[0]) - len(sample[0]) % devices
        return sample[0][:keep], sample[1][:keep]

    return trimmed((x, y)), (trimmed(validation) if validation is not None else None)


def fit_run(
    model: keras.Model,
    train: tuple[np.ndarray, np.ndarray],
    *,
    run_dir: Path | str,
    epochs: int,
    batch_size: int,
    validation: tuple[np.ndarray, np.ndarray] | float | None = None,
    resume: bool = False,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int | str = "auto",
    shuffle: bool = True,
    validation_batch_size: int = 4096,
    patience: int | None = None,
) -> FitResult:
    """Train a compiled ``model`` on ``train = (x, y)`` and fill ``run_dir`` with the run-folder files.

    ``validation`` is ``(x_val, y_val)``, a fraction held out of ``train`` (Keras'
    ``validation_split``) or None; it runs in batches of ``max(batch_size,
    validation_batch_size)`` (the same numbers, fewer steps, one compiled shape). Every
    finished epoch is checkpointed. With ``resume`` the freshly built and compiled
    ``model`` (same network and optimiser) gets the last checkpoint's state and training
    continues from there, so an interrupted run ends with ``epochs`` entries in one
    unbroken history; a larger ``epochs`` extends a finished run. The first NaN or
    infinite loss stops training with a ``UserError`` that names the learning rate.

    With ``patience`` (and a validation sample), training stops once the validation loss
    has not fallen for ``patience`` epochs (Keras' ``EarlyStopping``), and the model ends
    with the weights of its best epoch (kept by ``ModelCheckpoint`` in ``best.weights.h5``);
    ``metrics.json`` then records ``best_epoch`` and ``stopped_early``. A resumed run counts
    its patience again from where it resumes, against the best loss before the interruption.
    """
    run_dir = Path(run_dir)
    if epochs <= 0:
        raise UserError(f"the number of epochs must be positive, got {epochs}")
    if batch_size <= 0:
        raise UserError(f"the batch size must be positive, got {batch_size}")
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / MARKER).touch()
    resume_path = run_dir / RESUME_FILE
    if resume and resume_path.exists():
        state = read_json(resume_path)
        _restore_state(model, run_dir / state["checkpoint"])
        print(f"resuming {run_dir} after epoch {state['epochs_done']} of {epochs}")
    elif resume_path.exists():
        raise UserError(f"{run_dir} already holds a run; pass --resume to continue it or --overwrite to replace it")
    else:
        state = {"epochs_done": 0, "checkpoint": None, "history": {}, "fit_seconds": 0.0}
        write_summary(model, run_dir)
    done = int(state["epochs_done"])
    if state.get("stopped_early"):
        epochs = done  # a run that stopped early is finished: resuming it trains no further
    if done > epochs:
        raise UserError(f"{run_dir} already ran {done} epochs, more than --epochs {epochs}; ask for at least {done}")
    history: dict[str, list[float]] = state["history"]

    from keraslab.backend import current, device_count

    devices = device_count()
    if devices > 1:
        train, validation = _shardable(train, validation, batch_size, devices)
    guard = _NaNGuard()
    recorder = _EpochRecorder(run_dir, history, guard, state)
    stopping = _early_stopping(run_dir, patience, history) if patience and validation is not None else []
    fit_args: dict[str, Any] = {}
    if isinstance(validation, float):
        fit_args["validation_split"] = validation
    elif validation is not None:
        fit_args["validation_data"] = validation
    base_seconds = float(state.get("fit_seconds", 0.0))
    start = time.perf_counter()
    try:
        if done < epochs:
            model.fit(
                *train, batch_size=batch_size, epochs=epochs, initial_epoch=done, shuffle=shuffle,
                callbacks=[guard, recorder, *stopping, *callbacks, *_ALSO_CALLING.get()], verbose=verbose,
                validation_batch_size=max(batch_size, validation_batch_size), **fit_args,
            )
    except KeyboardInterrupt:
        print(f"\ninterrupted after {state['epochs_done']} finished epoch(s), which are saved in {run_dir}; "
              "continue with the same command and --resume", file=sys.stderr)
        raise
    finally:
        state["fit_seconds"] = base_seconds + time.perf_counter() - start
        if state["epochs_done"]:
            write_json(resume_path, state)

    if guard.where is not None:
        epoch, batch = guard.where
        rate = _learning_rate(model)
        at = f"epoch {epoch}" + (f", batch {batch}" if batch > 0 else "")
        raise UserError(f"the loss became NaN at {at} with learning rate {rate:g}: training diverged; "
                        f"run again with a smaller learning rate, e.g. --learning-rate {rate / 10:g}")

    best = {}
    if stopping:
        # fewer epochs than asked: EarlyStopping ended it (a NaN or an interruption raised above)
        state["stopped_early"] = state.get("stopped_early", False) or len(history["val_loss"]) < epochs
        write_json(resume_path, state)
        model.load_weights(run_dir / BEST_WEIGHTS)
        losses = history["val_loss"]
        best = {"best_epoch": int(np.argmin(losses)) + 1, "best_val_loss": float(min(losses)),
                "stopped_early": state["stopped_early"], "patience": patience}
    model.save_weights(run_dir / FINAL_WEIGHTS)
    result = FitResult(model=model, history=history, fit_seconds=state["fit_seconds"],
                       epochs_run=int(state["epochs_done"]), resumed_from=done)
    write_metrics(run_dir, {
        "params": int(model.count_params()),
        "fit_seconds": round(result.fit_seconds, 3),
        "epochs_run": result.epochs_run,
        "backend": current(),
        "devices": devices,
        **result.final,
        **best,
    })
    figures.save(figures.learning_curves(history, title=model.name), run_dir / "learning_curves.png")
    return result
