"""The day-one parts, each run by one function that fills a run folder and returns its metrics.

``keraslab run PART`` calls the function named by the part's catalog entry
(``catalog.Part.runner``) with that entry and the command's options; the networks'
own keyword options (``layers``, ``activation``, ``filters``, ...) pass through to
their builders. The notebooks tell the same story cell by cell with the same
building blocks (``toy``, ``models``, ``training``, ``figures``). Import this module
after choosing the backend (``keraslab.backend.select``): it imports Keras.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keraslab import figures, models, training
from keraslab.backend import mixed_precision
from keraslab.day1 import fashion_mnist, toy
from keraslab.day1 import figures as day1_figures
from keraslab.day1.catalog import Part

# Batches per compiled call: the same maths with far fewer round trips between Python
# and the backend, which dominate the time of these small networks (docs/day1.md).
STEPS_PER_EXECUTION = 32


def _compiled(network: str, optimizer: str, learning_rate: float, decay_steps: int | None = None, **architecture: Any):
    model = models.build(network, **architecture)
    return models.compile_for(model, network, optimizer=optimizer, learning_rate=learning_rate,
                              decay_steps=decay_steps, steps_per_execution=STEPS_PER_EXECUTION)


def _fit(part: Part, run_dir: Path, train, *, optimizer: str, learning_rate: float, batch_size: int, epochs: int,
         resume: bool, verbose: int | str = "auto", decay_steps: int | None = None,
         **architecture: Any) -> training.FitResult:
    """Train the part's network, built with ``architecture``, on ``train = (x, y)`` into ``run_dir``."""
    model = _compiled(part.networks[0], optimizer, learning_rate, decay_steps, **architecture)
    return training.fit_run(model, train, run_dir=run_dir, epochs=epochs, batch_size=batch_size,
                            validation=part.validation, resume=resume, verbose=verbose)


def _recipe(options: dict[str, Any]) -> dict:
    """What metrics.json records of how the network was trained."""
    return {key: options[key] for key in ("batch_size", "optimizer", "learning_rate")}


def regression(part: Part, out: Path, *, samples: int, seed: int, resume: bool = False, overwrite: bool = False,
               **options: Any) -> dict:
    """Part One: fit y = sin(sum x^2) on ``samples`` generated vectors; figures of the hidden structure and the fit.

    ``options``: ``optimizer``, ``learning_rate``, ``batch_size``, ``epochs``, ``verbose`` and the network's own.
    """
    run_dir = training.prepare_run_dir(out, resume=resume, overwrite=overwrite)
    keras.utils.set_random_seed(seed)  # the initial weights and the shuffling too: a run repeats exactly
    x, y = toy.make_regression(samples, seed=seed)
    result = _fit(part, run_dir, (x, y), resume=resume, **options)
    prediction = result.model.predict(x, batch_size=1024, verbose=0)
    figures.save(day1_figures.hidden_structure(x, y), run_dir / "hidden_structure.png")
    figures.save(day1_figures.regression_truth(x, y, prediction), run_dir / "prediction_vs_truth.png")
    return training.write_metrics(run_dir, {"part": part.name, "samples": samples, **_recipe(options)})


def classification(part: Part, out: Path, *, samples: int, seed: int, resume: bool = False, overwrite: bool = False,
                   **options: Any) -> dict:
    """Part Two: label = sin(sum x^2) >= 0 on ``samples`` generated vectors, and the slides' accuracy by hand.

    ``options`` as for ``regression``.
    """
    run_dir = training.prepare_run_dir(out, resume=resume, overwrite=overwrite)
    keras.utils.set_random_seed(seed)
    x, label = toy.make_binary(samples, seed=seed)
    result = _fit(part, run_dir, (x, label), resume=resume, **options)
    # the slides' check: accuracy by hand from predictions > 0.5, on all samples
    predicted = result.model.predict(x, batch_size=4096, verbose=0)[:, 0] > 0.5
    return training.write_metrics(run_dir, {
        "part": part.name, "samples": samples, **_recipe(options),
        "accuracy_by_hand": float(np.mean(predicted == label.astype(bool))),
    })


def _fashion_data(data_dir: Path | None):
    (train, test), source = fashion_mnist.load_with_source(data_dir)
    return (fashion_mnist.scale(train[0]), train[1]), (fashion_mnist.scale(test[0]), test[1]), source


def _evaluate_images(model, run_dir: Path, test, source: str) -> dict:
    """Test loss and accuracy, the prediction grid and the confusion matrix."""
    x_test, y_test = test
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=1024, verbose=0)
    probabilities = model.predict(x_test, batch_size=1024, verbose=0)
    names = fashion_mnist.CLASS_NAMES
    figures.save(day1_figures.prediction_grid(x_test, y_test, probabilities, names), run_dir / "predictions.png")
    figures.save(day1_figures.confusion_matrix(y_test, probabilities.argmax(axis=1), names),
                 run_dir / "confusion_matrix.png")
    return {"test_loss": float(test_loss), "test_accuracy": float(test_accuracy), "data_source": source}


def images(part: Part, out: Path, *, epochs: int, batch_size: int, data_dir: Path | None = None,
           precision: str | None = None, resume: bool = False, overwrite: bool = False, **options: Any) -> dict:
    """Train the part's network on Fashion-MNIST and evaluate it on the test set.

    With the part's cosine schedule the learning rate falls from ``learning_rate`` to 0
    over the run: large steps first, fine ones at the end, for the best accuracy in few
    epochs. A ``precision`` sets the dtype policy first ("auto": bfloat16 where the CPU
    computes it natively, ``keraslab.backend.mixed_precision``) and is recorded.
    ``options`` as for ``regression``.
    """
    run_dir = training.prepare_run_dir(out, resume=resume, overwrite=overwrite)
    train, test, source = _fashion_data(data_dir)
    recorded = {}
    if precision is not None:
        recorded["precision"] = mixed_precision(precision)
        print(f"dtype policy: {recorded['precision']}")
    batches_per_run = epochs * -(-len(train[0]) // batch_size)
    decay_steps = batches_per_run if part.schedule == "cosine" else None
    result = _fit(part, run_dir, train, epochs=epochs, batch_size=batch_size, resume=resume, decay_steps=decay_steps,
                  **options)
    return training.write_metrics(run_dir, {"part": part.name, **_recipe({"batch_size": batch_size, **options}),
                                            **recorded, **_evaluate_images(result.model, run_dir, test, source)})


def best_epoch(val_loss: Sequence[float]) -> int:
    """The epoch (1-based) early stopping would keep: the lowest validation loss."""
    return int(np.argmin(val_loss)) + 1


def overtraining(
    part: Part, out: Path, *, variants: Sequence[str], batch_size: int, epochs: int, data_dir: Path | None = None,
    resume: bool = False, overwrite: bool = False, verbose: int | str = "auto",
) -> dict:
    """Over-training: the MLP and its regularised ``variants`` (of ``part.networks``), learning curves overlaid.

    Each variant trains with the part's recipe in ``out/<variant>/`` on the training
    images less the part's validation share; the overlay marks where early stopping
    would stop.
    """
    run_dir = training.prepare_run_dir(out, resume=resume, overwrite=overwrite)
    train, test, source = _fashion_data(data_dir)
    histories, summary = {}, {}
    for variant in variants:
        print(f"\n=== {variant} ===")
        model = _compiled(variant, part.optimizer, part.learning_rate)
        result = training.fit_run(model, train, run_dir=run_dir / variant, epochs=epochs, batch_size=batch_size,
                                  validation=part.validation, resume=resume, verbose=verbose)
        test_loss, test_accuracy = result.model.evaluate(*test, batch_size=1024, verbose=0)
        histories[variant] = result.history
        summary[variant] = training.write_metrics(run_dir / variant, {
            "test_accuracy": float(test_accuracy), "test_loss": float(test_loss),
            "best_epoch": best_epoch(result.history["val_loss"]), "data_source": source,
        })
    figures.save(day1_figures.overtraining_overlay(histories, {v: m["best_epoch"] for v, m in summary.items()}),
                 run_dir / "overtraining.png")
    best = max(summary, key=lambda v: summary[v]["val_accuracy"])
    return training.write_metrics(run_dir, {
        **{k: summary[best][k] for k in ("params", "loss", "val_loss", "val_accuracy", "test_accuracy", "backend")},
        "part": part.name, "best_variant": best, "batch_size": batch_size, "data_source": source,
        "fit_seconds": round(sum(m["fit_seconds"] for m in summary.values()), 3),
        "epochs_run": max(m["epochs_run"] for m in summary.values()),
        "variants": summary,
    })
