"""Anomaly detection on jets: an autoencoder trained on QCD jets only, its reconstruction error as a top tagger.

The autoencoder (``jet-autoencoder`` in ``keraslab.beyond.networks``) learns to copy
QCD jet images through a narrow bottleneck. It never sees a top jet and never a label:
its target is its input. A jet it reconstructs badly is unlike the QCD jets it
learned, so the per-jet reconstruction error (the mean squared error over the
pixels) is an anomaly score, here used as a top tagger. Its AUC and 1/eps_B at
eps_S = 0.3 are measured on the test jets (top and QCD) with the same functions as
``keraslab run toptag-cnn``, next to the lab's supervised CNN trained on the same
training jets with their labels. The known pitfall is measured too: the error grows
with the jet mass, so a cut on it sculpts the QCD mass distribution.

``keraslab run toptag-anomaly --jets DIR`` writes a run folder: ``metrics.json``,
``history.json``, ``learning_curves.png`` (the autoencoder's), the figures below and
the CNN's own run folder in ``toptag-cnn/``.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np

from keraslab.errors import UserError
from keraslab.toptag.auc import Measurement

GENERATED_JETS = 4000  # the small folder made when no jets folder is given (about a minute)
BATCH_SIZE = 128
LEARNING_RATE = 1e-3
MASS_CUT_QCD_EFFICIENCY = 0.1  # the error cut of the sculpting figure keeps the 10 % most anomalous QCD jets
MASS_BINS = np.linspace(0, 300, 31)  # GeV


# --- the numbers -----------------------------------------------------------------------------


def qcd_only(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The autoencoder's training set: the QCD jets (label 0) of ``images``; no top jet, no label passes."""
    qcd = np.asarray(images)[np.asarray(labels) == 0]
    if len(qcd) < 2:
        raise UserError(f"only {len(qcd)} QCD jets to train on; generate more jets "
                        "(`keraslab toptag generate --jets N --out DIR`)")
    return qcd


def reconstruction_error(model, images: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Per jet: the mean over the pixels of (image - reconstruction)^2, float64 of shape (N,)."""
    images = np.asarray(images, dtype=np.float32)
    reconstructed = np.asarray(model.predict(images, batch_size=batch_size, verbose=0), dtype=np.float64)
    return np.mean((reconstructed - images).reshape(len(images), -1) ** 2, axis=1)


def tagger_metrics(labels: np.ndarray, scores: np.ndarray, prefix: str = "") -> dict:
    """``keraslab.metrics.summary_with_uncertainties`` (AUC with its DeLong uncertainty; 1/eps_B at
    eps_S = 0.3 and 0.5 with binomial intervals and the background jets passing) without the accuracy,
    which means nothing for a score that is not a probability; keys start with ``prefix``."""
    from keraslab.metrics import summary_with_uncertainties

    summary = summary_with_uncertainties(labels, scores)
    del summary["accuracy"]
    return {f"{prefix}{key}": value for key, value in summary.items()}


def mass_correlation(scores: np.ndarray, mass: np.ndarray) -> Measurement:
    """Pearson's correlation of the jet mass with log10 of the score, with its large-sample uncertainty
    (1 - r^2) / sqrt(n - 1). The log keeps the few jets with huge errors from deciding the number."""
    log_scores = np.log10(np.maximum(np.asarray(scores, dtype=np.float64), np.finfo(np.float64).tiny))
    mass = np.asarray(mass, dtype=np.float64)
    if len(mass) < 3:
        raise UserError(f"{len(mass)} jets are too few for a correlation; give at least 3")
    r = float(np.corrcoef(log_scores, mass)[0, 1])
    return Measurement(r, (1 - r * r) / math.sqrt(len(mass) - 1))


def error_cut(qcd_scores: np.ndarray, qcd_efficiency: float = MASS_CUT_QCD_EFFICIENCY) -> float:
    """The score above which a fraction ``qcd_efficiency`` of the QCD jets lies."""
    return float(np.quantile(np.asarray(qcd_scores, dtype=np.float64), 1 - qcd_efficiency))


def mass_sculpting(errors: np.ndarray, mass: np.ndarray, labels: np.ndarray, prefix: str = "") -> dict:
    """The pitfall in numbers, on QCD jets: the mass correlation, and their mean mass before and after
    the error cut that keeps ``MASS_CUT_QCD_EFFICIENCY`` of them (each with its standard error)."""
    qcd = np.asarray(labels) == 0
    errors, mass = np.asarray(errors)[qcd], np.asarray(mass, dtype=np.float64)[qcd]
    passing = mass[errors > error_cut(errors)]
    correlation = mass_correlation(errors, mass)

    def mean(values) -> Measurement:
        if len(values) < 2:
            return Measurement(float("nan"), float("nan"))
        return Measurement(float(np.mean(values)), float(np.std(values, ddof=1) / math.sqrt(len(values))))

    before, after = mean(mass), mean(passing)
    return {f"{prefix}{key}": value for key, value in {
        "mass_correlation_qcd": correlation.value,
        "mass_correlation_qcd_uncertainty": correlation.uncertainty,
        "qcd_mass_mean_before_cut": before.value,
        "qcd_mass_mean_before_cut_uncertainty": before.uncertainty,
        "qcd_mass_mean_after_cut": after.value,
        "qcd_mass_mean_after_cut_uncertainty": after.uncertainty,
    }.items()}


# --- the figures -----------------------------------------------------------------------------


def error_distributions(labels: np.ndarray, errors: np.ndarray, *, ax=None, title: str = ""):
    """Histograms (each summing to 1, log x) of the reconstruction error of top and QCD test jets."""
    from keraslab.figures import axes_or_new

    figure, ax = axes_or_new(ax, (7, 5))
    labels, errors = np.asarray(labels), np.asarray(errors)
    positive = errors[errors > 0]
    bins = np.geomspace(positive.min(), positive.max(), 50) if positive.size > 1 else 20
    for label, name, colour in ((0, "QCD", "tab:blue"), (1, "top", "tab:red")):
        chosen = errors[labels == label]
        ax.hist(chosen, bins=bins, weights=np.full(len(chosen), 1 / max(len(chosen), 1)), histtype="step", lw=2,
                color=colour, label=f"{name} ({len(chosen)} jets)")
    ax.set(xscale="log", xlabel="reconstruction error (mean squared error per pixel)", ylabel="fraction of jets",
           title=title or "autoencoder trained on QCD only")
    ax.legend()
    return figure


def mass_sculpting_figure(mass: np.ndarray, errors: np.ndarray, labels: np.ndarray, *, ax=None):
    """Two panels: the error against the jet mass (QCD and top test jets), and the QCD mass
    distribution before and after the error cut that keeps ``MASS_CUT_QCD_EFFICIENCY`` of the QCD jets."""
    from keraslab.figures import axes_or_new

    figure, axes = axes_or_new(ax, (13, 5), ncols=2)
    mass, errors, labels = np.asarray(mass), np.asarray(errors), np.asarray(labels)
    qcd = labels == 0
    cut = error_cut(errors[qcd])
    left, right = axes
    for label, name, colour in ((0, "QCD", "tab:blue"), (1, "top", "tab:red")):
        chosen = labels == label
        left.scatter(mass[chosen], errors[chosen], s=3, alpha=0.3, color=colour, label=name)
    left.axhline(cut, color="black", ls="--", lw=1, label=f"cut: {MASS_CUT_QCD_EFFICIENCY:.0%} of QCD pass")
    r = mass_correlation(errors[qcd], mass[qcd])
    left.set(yscale="log", xlabel="jet mass [GeV]", ylabel="reconstruction error",
             title=f"QCD: correlation of mass and log error {r}")
    left.legend(markerscale=4)
    right.hist(mass[qcd], bins=MASS_BINS, density=True, histtype="step", lw=2, color="tab:blue",
               label=f"QCD, all ({qcd.sum()})")
    passing = qcd & (errors > cut)
    right.hist(mass[passing], bins=MASS_BINS, density=True, histtype="stepfilled", alpha=0.4, color="tab:blue",
               label=f"QCD passing the cut ({passing.sum()})")
    right.hist(mass[~qcd], bins=MASS_BINS, density=True, histtype="step", lw=2, ls="--", color="tab:red",
               label=f"top, all ({(~qcd).sum()})")
    right.set(xlabel="jet mass [GeV]", ylabel="jets (unit area)", title="the cut sculpts the QCD mass")
    right.legend()
    return figure


# --- keraslab run toptag-anomaly -------------------------------------------------------------


def can_generate() -> bool:
    """Is keraslab's generate extra (Pythia 8 and FastJet) installed?"""
    return all(importlib.util.find_spec(module) for module in ("pythia8mc", "fastjet"))


def jets_folder(jets: Path | None, run_dir: Path) -> Path:
    """The jets folder to use: ``jets``; else $KERASLAB_JETS_DIR or data/jets if it holds one; else a small
    folder of ``GENERATED_JETS`` generated into the run folder where the generate extra is installed."""
    from keraslab.toptag import dataset

    def complete(folder: Path) -> bool:
        return all(dataset.sample_path(folder, split, kind).is_file()
                   for split in dataset.SPLITS for kind in ("images", "features"))

    if jets is not None:
        if not complete(Path(jets)):
            raise UserError(f"--jets {jets} is not a complete jets folder; {dataset.LAYOUT_HINT}")
        return Path(jets)
    if complete(dataset.default_jets_dir()):
        return dataset.default_jets_dir()
    if not can_generate():
        raise UserError("no jets folder: run `keraslab toptag generate --jets 20000 --out data/jets` "
                        "(needs pip install 'keraslab[generate]'), then pass --jets data/jets")
    from keraslab.toptag.generation import GenerationSettings, generate

    folder = run_dir / "jets"
    print(f"no jets folder given and none in {dataset.default_jets_dir()}: generating {GENERATED_JETS} jets into "
          f"{folder} (for the measurement in docs/beyond/anomaly.md use 20,000: --jets DIR)", flush=True)
    generate(folder, GenerationSettings(jets=GENERATED_JETS), workers=2)
    return folder


def _load(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Images (N, 40, 40, 1), labels and jet masses (GeV) of one split, in file order."""
    from keraslab.toptag import dataset, inputs

    images, labels = inputs.load_inputs("image", folder, split)
    mass = dataset.read_features(dataset.sample_path(folder, split, "features"))["mass"].to_numpy(np.float64)
    if labels is None or len(mass) != len(labels):
        raise UserError(f"{folder}: the {split} images and features do not hold the same labelled jets; "
                        "regenerate the folder")
    return images, labels, mass


def _supervised_cnn(run_dir: Path, train, validation, x_test):
    """The lab's CNN (``keraslab run toptag-cnn``'s network and settings) on the same training jets, with
    their labels; its run folder in ``run_dir/toptag-cnn``. Returns its top probability per test jet."""
    import keras

    from keraslab import models, training
    from keraslab.toptag.catalog import spec
    from keraslab.toptag.inputs import one_hot

    cnn_spec = spec("toptag-cnn")
    cnn = models.build(cnn_spec.name)
    cnn.compile(optimizer=keras.optimizers.Adam(learning_rate=cnn_spec.learning_rate),
                loss="categorical_crossentropy", metrics=["accuracy"])
    (x_train, y_train), (x_val, y_val) = train, validation
    print(f"\nthe supervised CNN ({cnn_spec.name}): {len(x_train)} training jets with their labels, "
          f"{cnn_spec.epochs} epochs", flush=True)
    result = training.fit_run(cnn, (x_train, one_hot(y_train)), run_dir=training.prepare_run_dir(run_dir / cnn_spec.name),
                              epochs=cnn_spec.epochs, batch_size=cnn_spec.batch_size,
                              validation=(x_val, one_hot(y_val)), verbose=2)
    return result.model.predict(x_test, batch_size=1024, verbose=0)[:, 1], result.fit_seconds


def run(topic, out: Path, overwrite: bool = False, *, jets: Path | None = None, epochs: int = 20,
        bottleneck: int = 32) -> dict:
    """Train the autoencoder on the QCD training jets, score every test jet, compare with the supervised CNN."""
    import keras

    from keraslab import figures, models, training
    from keraslab.toptag import figures as toptag_figures
    from keraslab.toptag.auc import auc_difference

    run_dir = training.prepare_run_dir(out, overwrite=overwrite)
    folder = jets_folder(jets, run_dir)
    (x_train, y_train, _), (x_val, y_val, _), (x_test, y_test, mass_test) = (
        _load(folder, split) for split in ("train", "val", "test"))
    if len(np.unique(y_test)) < 2:
        raise UserError(f"{folder}: the test jets hold only one class; generate more jets")
    qcd_train, qcd_val = qcd_only(x_train, y_train), qcd_only(x_val, y_val)
    print(f"{topic.name}: the autoencoder trains on {len(qcd_train)} QCD jets of {len(x_train)} (no top jet, "
          f"no label), validates on {len(qcd_val)} QCD jets; {len(x_test)} test jets ({int(y_test.sum())} top)",
          flush=True)

    keras.utils.set_random_seed(0)
    autoencoder = models.build("jet-autoencoder", bottleneck=bottleneck)
    autoencoder.compile(optimizer=keras.optimizers.Adam(learning_rate=LEARNING_RATE), loss="mse")
    result = training.fit_run(autoencoder, (qcd_train, qcd_train), run_dir=run_dir, epochs=epochs,
                              batch_size=BATCH_SIZE, validation=(qcd_val, qcd_val), verbose=2)
    errors = reconstruction_error(result.model, x_test)
    cnn_scores, cnn_seconds = _supervised_cnn(run_dir, (x_train, y_train), (x_val, y_val), x_test)
    np.savez(run_dir / "test_scores.npz", labels=y_test.astype(np.int8), errors=errors.astype(np.float32),
             cnn_scores=cnn_scores.astype(np.float32), mass=mass_test.astype(np.float32))

    figures.save(error_distributions(y_test, errors), run_dir / "error_distributions.png")
    toptag_figures.rejection_curves({"autoencoder (no labels)": (y_test, errors),
                                     "the lab's CNN (supervised)": (y_test, cnn_scores)},
                                    path=run_dir / "roc.png", figsize=(11, 5.5),
                                    title="QCD-trained autoencoder vs supervised CNN")
    figures.save(mass_sculpting_figure(mass_test, errors, y_test), run_dir / "mass_sculpting.png")

    gap = auc_difference(y_test, cnn_scores, errors)
    metrics = training.write_metrics(run_dir, {
        "data": str(folder.resolve()),
        "bottleneck": bottleneck,
        "n_train_qcd": len(qcd_train),
        "n_train_top": 0,  # qcd_only: the autoencoder never saw a top jet
        "n_test": len(y_test),
        **tagger_metrics(y_test, errors),
        **mass_sculpting(errors, mass_test, y_test),
        **tagger_metrics(y_test, cnn_scores, prefix="cnn_"),
        "cnn_n_train": len(x_train),
        "cnn_fit_seconds": round(cnn_seconds, 3),
        "cnn_mass_correlation_qcd": mass_correlation(cnn_scores[y_test == 0], mass_test[y_test == 0]).value,
        "cnn_minus_autoencoder_auc": gap.value,
        "cnn_minus_autoencoder_auc_uncertainty": gap.uncertainty,
    })
    print(f"\nautoencoder (trained on QCD only): AUC {metrics['auc']:.3f} ± {metrics['auc_uncertainty']:.3f}, "
          f"1/eps_B at eps_S = 0.3: {metrics['rejection_at_30']:.1f} "
          f"({metrics['background_passing_at_30']} of {metrics['n_test_background']} QCD jets pass)")
    print(f"the lab's CNN (supervised):       AUC {metrics['cnn_auc']:.3f} ± {metrics['cnn_auc_uncertainty']:.3f}, "
          f"1/eps_B at eps_S = 0.3: {metrics['cnn_rejection_at_30']:.1f}")
    print(f"the pitfall: on QCD jets, correlation of the mass with the log error {metrics['mass_correlation_qcd']:.2f} "
          f"± {metrics['mass_correlation_qcd_uncertainty']:.2f}; mean QCD mass {metrics['qcd_mass_mean_before_cut']:.0f} "
          f"GeV before the cut keeping {MASS_CUT_QCD_EFFICIENCY:.0%} of them, {metrics['qcd_mass_mean_after_cut']:.0f} GeV "
          "after")
    return metrics
