"""The five day-one parts, each one function that fills a run folder and returns its metrics.

The CLI (``keraslab run PART``) and ``keraslab lab`` call these; the notebooks tell the
same story cell by cell with the same building blocks (``toy``, ``models``,
``training``, ``figures``). Import this module after choosing the backend
(``keraslab.backend.select``): it imports Keras.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from keraslab import figures, models, training
from keraslab.day1 import fashion_mnist, toy
from keraslab.day1 import figures as day1_figures
from keraslab.backend import mixed_precision
from keraslab.day1.settings import CLASSIFICATION, CNN, CNN_DENSE, CNN_DROPOUT, FASHION_MLP, OVERTRAINING, \
    OVERTRAINING_VALIDATION, OVERTRAINING_VARIANTS, REGRESSION
from keraslab.errors import UserError

# Batches per compiled call: the same maths with far fewer round trips between Python
# and the backend, which dominate the time of these small networks (docs/day1.md).
STEPS_PER_EXECUTION = 32



def _compiled(network: str, optimizer: str | None, learning_rate: float | None, decay_steps: int | None = None,
              **architecture: Any):
    model = models.build(network, **architecture)
    return models.compile_for(model, network, optimizer=optimizer, learning_rate=learning_rate,
                              decay_steps=decay_steps, steps_per_execution=STEPS_PER_EXECUTION)


def regression(
    out: Path, *, samples: int = REGRESSION.samples, layers: Sequence[int] = REGRESSION.layers,
    activation: str = REGRESSION.activation, optimizer: str = REGRESSION.optimizer,
    learning_rate: float = REGRESSION.learning_rate, batch_size: int = REGRESSION.batch_size,
    epochs: int = REGRESSION.epochs, seed: int = 0,
    resume: bool = False, overwrite: bool = False, verbose: int | str = "auto",
) -> dict:
    """Part One: fit y = sin(sum x^2) (slides: 20-30 ReLU, SGD 0.01, MSE, batch 32, 10 epochs)."""
    run_dir = training.prepare_run_dir(out, resume=resume, overwrite=overwrite)
    x, y = toy.make_regression(samples, seed=seed)
    model = _compiled("regression", optimizer, learning_rate, layers=tuple(layers), activation=activation)
    result = training.fit_run(model, (x, y), run_dir=run_dir, epochs=epochs, batch_size=batch_size,
                              resume=resume, verbose=verbose)
    prediction = result.model.predict(x, batch_size=1024, verbose=0)
    figures.save(day1_figures.hidden_structure(x, y), run_dir / "hidden_structure.png")
    figures.save(day1_figures.regression_truth(x, y, prediction), run_dir / "prediction_vs_truth.png")
    return training.write_metrics(run_dir, {"part": "regression", "samples": samples, "batch_size": batch_size,
                                            "optimizer": optimizer, "learning_rate": learning_rate})


def classification(
    out: Path, *, samples: int = CLASSIFICATION.samples, layers: Sequence[int] = CLASSIFICATION.layers,
    activation: str = CLASSIFICATION.activation, optimizer: str = CLASSIFICATION.optimizer,
    learning_rate: float = CLASSIFICATION.learning_rate, batch_size: int = CLASSIFICATION.batch_size,
    epochs: int = CLASSIFICATION.epochs, seed: int = 0,
    resume: bool = False, overwrite: bool = False, verbose: int | str = "auto",
) -> dict:
    """Part Two: label = sin(sum x^2) >= 0 (slides: 100-100 ReLU, sigmoid, Adam, batch 256, 25 epochs, 20% validation)."""
    run_dir = training.prepare_run_dir(out, resume=resume, overwrite=overwrite)
    x, label = toy.make_binary(samples, seed=seed)
    model = _compiled("classification", optimizer, learning_rate, layers=tuple(layers), activation=activation)
    result = training.fit_run(model, (x, label), run_dir=run_dir, epochs=epochs, batch_size=batch_size,
                              validation=0.2, resume=resume, verbose=verbose)
    # the slides' check: accuracy by hand from predictions > 0.5, on all samples
    predicted = result.model.predict(x, batch_size=4096, verbose=0)[:, 0] > 0.5
    return training.write_metrics(run_dir, {
        "part": "classification", "samples": samples, "batch_size": batch_size, "optimizer": optimizer,
        "learning_rate": learning_rate, "accuracy_by_hand": float(np.mean(predicted == label.astype(bool))),
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


def fashion_mnist_mlp(
    out: Path, *, data_dir: Path | None = None, layers: Sequence[int] = FASHION_MLP.layers,
    activation: str = FASHION_MLP.activation, optimizer: str = FASHION_MLP.optimizer,
    learning_rate: float = FASHION_MLP.learning_rate, batch_size: int = FASHION_MLP.batch_size,
    epochs: int = FASHION_MLP.epochs,
    resume: bool = False, overwrite: bool = False, verbose: int | str = "auto",
) -> dict:
    """Fashion-MNIST with the slides' MLP (512-512 ReLU, softmax, Adam, batch 32, 5 epochs), evaluated on the test set."""
    run_dir = training.prepare_run_dir(out, resume=resume, overwrite=overwrite)
    train, test, source = _fashion_data(data_dir)
    model = _compiled("fashion-mlp", optimizer, learning_rate, layers=tuple(layers), activation=activation)
    result = training.fit_run(model, train, run_dir=run_dir, epochs=epochs, batch_size=batch_size,
                              resume=resume, verbose=verbose)
    return training.write_metrics(run_dir, {"part": "fashion-mnist", "batch_size": batch_size, "optimizer": optimizer,
                                            "learning_rate": learning_rate,
                                            **_evaluate_images(result.model, run_dir, test, source)})


def cnn(
    out: Path, *, data_dir: Path | None = None, filters: Sequence[int] = CNN.layers, dense: int = CNN_DENSE,
    dropout: float = CNN_DROPOUT, optimizer: str = CNN.optimizer, learning_rate: float = CNN.learning_rate,
    batch_size: int = CNN.batch_size, epochs: int = CNN.epochs, precision: str = "auto", resume: bool = False, overwrite: bool = False,
    verbose: int | str = "auto",
) -> dict:
    """"Improve it!": a small CNN on Fashion-MNIST, evaluated on the test set.

    The learning rate falls from ``learning_rate`` to 0 along a cosine over the run:
    large steps first, fine ones at the end, for the best accuracy in few epochs.
    ``precision`` "auto" computes in bfloat16 where the CPU does so natively
    (``keraslab.backend.mixed_precision``).
    """
    run_dir = training.prepare_run_dir(out, resume=resume, overwrite=overwrite)
    train, test, source = _fashion_data(data_dir)
    policy = mixed_precision(precision)
    print(f"dtype policy: {policy}")
    decay_steps = epochs * -(-len(train[0]) // batch_size)  # batches in the whole run
    model = _compiled("fashion-cnn", optimizer, learning_rate, decay_steps, filters=tuple(filters), dense=dense,
                      dropout=dropout)
    result = training.fit_run(model, train, run_dir=run_dir, epochs=epochs, batch_size=batch_size,
                              resume=resume, verbose=verbose)
    return training.write_metrics(run_dir, {"part": "cnn", "batch_size": batch_size, "optimizer": optimizer,
                                            "learning_rate": learning_rate, "precision": policy,
                                            **_evaluate_images(result.model, run_dir, test, source)})


def best_epoch(val_loss: Sequence[float]) -> int:
    """The epoch (1-based) early stopping would keep: the lowest validation loss."""
    return int(np.argmin(val_loss)) + 1


def overtraining(
    out: Path, *, data_dir: Path | None = None, variants: Sequence[str] = OVERTRAINING_VARIANTS,
    batch_size: int = OVERTRAINING.batch_size, epochs: int = OVERTRAINING.epochs,
    validation_fraction: float = OVERTRAINING_VALIDATION,
    resume: bool = False, overwrite: bool = False, verbose: int | str = "auto",
) -> dict:
    """Over-training: the MLP and its regularised variants, learning curves overlaid.

    Each variant trains in ``out/<variant>/`` on the training images less a validation
    share (default 10,000 of 60,000); the overlay marks where early stopping would stop.
    """
    unknown = [v for v in variants if v not in OVERTRAINING_VARIANTS]
    if unknown or not variants:
        raise UserError(f"unknown variant(s) {', '.join(unknown) or '(none given)'}; choose from: {', '.join(OVERTRAINING_VARIANTS)}")
    if not 0 < validation_fraction < 1:
        raise UserError(f"the validation fraction must be between 0 and 1, got {validation_fraction}")
    run_dir = training.prepare_run_dir(out, resume=resume, overwrite=overwrite)
    train, test, source = _fashion_data(data_dir)
    histories, summary = {}, {}
    for variant in variants:
        print(f"\n=== {variant} ===")
        result = training.fit_run(_compiled(variant, None, None), train, run_dir=run_dir / variant, epochs=epochs,
                                  batch_size=batch_size, validation=validation_fraction, resume=resume, verbose=verbose)
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
        "part": "overtraining", "best_variant": best, "batch_size": batch_size, "data_source": source,
        "fit_seconds": round(sum(m["fit_seconds"] for m in summary.values()), 3),
        "epochs_run": max(m["epochs_run"] for m in summary.values()),
        "variants": summary,
    })
