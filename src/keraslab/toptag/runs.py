"""Training one day-two network into a run folder, and reading such folders back.

A top-tagging run folder is a ``keraslab.training`` run folder (summary,
history, learning curves, final weights, ``metrics.json``) plus:

* ``toptag.json``: the model's name and input settings (what ``predict`` needs
  to rebuild the network and give it the run's final weights);
* ``test_scores.npz``: ``labels`` and ``scores`` (top probability) on the test
  sample, in file order (what ``compare`` draws its ROC curves from);
* ``signal_probability.png`` and ``roc.png`` on the test sample;
* in ``metrics.json``, on the test sample: ``keraslab.metrics.summary_with_uncertainties``
  (``auc`` with ``auc_uncertainty``, ``accuracy``, ``rejection_at_30`` and ``rejection_at_50``
  (1/eps_B at eps_S = 0.3, 0.5) with their binomial ``_interval`` and ``background_passing_at_``
  counts of the ``n_test_background`` QCD jets), with ``n_train``, ``n_test``.

Keras is imported only inside ``train``, after the backend has been chosen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from keraslab.errors import UserError
from keraslab.toptag.catalog import ModelSpec, spec

SETTINGS_FILE = "toptag.json"
TEST_SCORES = "test_scores.npz"
PREDICT_BATCH = 512


@dataclass(frozen=True)
class TrainingOptions:
    """What a user can set for one run (None: the model's default from the catalog)."""

    jets: int | None = None  # training jets (all in train.h5 when None)
    eval_jets: int | None = None  # validation and test jets (all when None)
    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    constituents: int | None = None  # particle networks: hardest constituents kept
    patience: int | None = None  # early stopping on the validation loss (0: off)
    seed: int = 42

    def resolved(self, model: ModelSpec) -> dict:
        """Every setting with the model's defaults filled in (what toptag.json records)."""
        return {
            "model": model.name,
            "inputs": model.inputs,
            "jets": self.jets,
            "eval_jets": self.eval_jets,
            "epochs": self.epochs or model.epochs,
            "batch_size": self.batch_size or model.batch_size,
            "learning_rate": self.learning_rate or model.learning_rate,
            "n_constituents": self.constituents or model.n_constituents,
            "patience": model.patience if self.patience is None else self.patience,
            "seed": self.seed,
        }


def _labelled(x: np.ndarray, labels: np.ndarray | None, path_hint: str) -> tuple[np.ndarray, np.ndarray]:
    if labels is None:
        raise UserError(f"the {path_hint} sample has no truth column is_signal_new; training needs train.h5, val.h5, test.h5 with labels")
    if len(np.unique(labels)) < 2:
        raise UserError(f"the {path_hint} sample holds only one class; generate or read more jets (--jets)")
    return x, labels


def train(name: str, data: Path, out: Path, options: TrainingOptions, *, resume: bool = False, overwrite: bool = False) -> dict:
    """Train the network ``name`` on the jets folder ``data`` into the run folder ``out``; return metrics.json."""
    from keraslab import backend

    model_spec = spec(name)
    chosen, reason = backend.select(model_spec.backend)
    print(f"{name}: Keras backend {chosen} ({reason})")

    from keraslab import training
    from keraslab.toptag.inputs import load_inputs

    data = Path(data)
    if options.jets is not None and options.jets <= 0:
        raise UserError(f"--jets must be positive, got {options.jets}")
    settings = options.resolved(model_spec)
    read = dict(kind=model_spec.inputs, data=data, n_constituents=settings["n_constituents"])
    x_train, y_train = _labelled(*load_inputs(sample="train", n_jets=options.jets, **read), "train")
    x_val, y_val = _labelled(*load_inputs(sample="val", n_jets=options.eval_jets, **read), "val")
    x_test, y_test = _labelled(*load_inputs(sample="test", n_jets=options.eval_jets, **read), "test")

    run_dir = training.prepare_run_dir(out, resume=resume, overwrite=overwrite)
    (run_dir / SETTINGS_FILE).write_text(json.dumps({**settings, "data": str(data.resolve())}, indent=2) + "\n")

    import keras

    from keraslab.toptag import networks
    from keraslab.toptag.inputs import one_hot

    keras.utils.set_random_seed(settings["seed"])
    model = networks.build(name)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=settings["learning_rate"]),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    print(f"{name}: {len(x_train)} training, {len(x_val)} validation, {len(x_test)} test jets")
    result = training.fit_run(
        model, (x_train, one_hot(y_train)), run_dir=run_dir, epochs=settings["epochs"],
        batch_size=settings["batch_size"], validation=(x_val, one_hot(y_val)), resume=resume,
        patience=settings["patience"] or None,
    )
    return evaluate(name, result.model, run_dir, x_test, y_test, n_train=len(x_train))


def evaluate(name: str, model, run_dir: Path, x_test: np.ndarray, y_test: np.ndarray, n_train: int) -> dict:
    """Score the test sample: test_scores.npz, the figures, and the figures of merit in metrics.json."""
    from keraslab import training
    from keraslab.metrics import summary_text, summary_with_uncertainties
    from keraslab.toptag import figures

    scores = model.predict(x_test, batch_size=PREDICT_BATCH, verbose=0)[:, 1]
    np.savez(run_dir / TEST_SCORES, labels=y_test.astype(np.int8), scores=scores.astype(np.float32))
    summary = summary_with_uncertainties(y_test, scores)
    figures.signal_probability(y_test, scores, path=run_dir / "signal_probability.png", title=name)
    figures.rejection_curves({name: (y_test, scores)}, path=run_dir / "roc.png", title=name)
    metrics = training.write_metrics(run_dir, {**summary, "n_train": int(n_train), "n_test": int(len(y_test))})
    print(f"{name} on the test jets: {summary_text(summary)}, accuracy {summary['accuracy']:.4f}  -> {run_dir}")
    return metrics


NOT_A_RUN = "is not a finished top-tagging run; make one with `keraslab run toptag-cnn --data DIR --out RUN_DIR`"


def read_settings(run_dir: Path) -> dict:
    """The toptag.json of a run folder (no Keras import); a one-line error if there is none."""
    path = Path(run_dir) / SETTINGS_FILE
    if not path.is_file():
        raise UserError(f"{run_dir} {NOT_A_RUN} (no {SETTINGS_FILE})")
    return json.loads(path.read_text())


def load_trained(run_dir: Path, settings: dict):
    """The trained network of a run folder: built by name, then given the run's final weights."""
    from keraslab.toptag import networks
    from keraslab.training import FINAL_WEIGHTS

    weights = Path(run_dir) / FINAL_WEIGHTS
    if not weights.is_file():
        raise UserError(f"{run_dir} {NOT_A_RUN} (no {FINAL_WEIGHTS}: was the run interrupted? finish it with --resume)")
    model = networks.build(settings["model"])
    model.load_weights(weights)
    return model


def read_test_scores(run_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """(labels, scores) on the test sample saved by a finished run."""
    with np.load(Path(run_dir) / TEST_SCORES) as saved:
        return saved["labels"], saved["scores"]
