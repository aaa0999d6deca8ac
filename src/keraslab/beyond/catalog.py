"""The parts beyond the slides by name: their options, defaults, preferred backend and report title.

The one home of each topic's defaults (its ``Option`` entries). Kept free of Keras
imports, as ``keraslab.day1.catalog`` is: ``commands.py`` makes ``keraslab run NAME``
of each entry and picks the backend before Keras is imported, and ``keraslab lab
--all`` adds these parts to the report. Each topic's runner is ``run(topic, out,
overwrite=..., **options) -> metrics`` in its own module of ``keraslab.beyond``; its
networks are in ``keraslab.beyond.networks``; its notebook is ``labs/<notebook>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATA_DIR_HELP = ("Folder with the four Fashion-MNIST IDX .gz files "
                 "(else $KERASLAB_FASHION_MNIST_DIR, else Keras' download cache).")


@dataclass(frozen=True)
class Option:
    """One option of ``keraslab run NAME``: ``--flag`` (its keyword is the flag with _ for -)."""

    flag: str
    kind: Any  # int, float, str, bool, Path | None, str | None
    default: Any
    help: str
    limits: dict = field(default_factory=dict)  # typer's min= / max=

    @property
    def keyword(self) -> str:
        return self.flag.removeprefix("--").replace("-", "_")


@dataclass(frozen=True)
class Topic:
    """One part beyond the slides: what ``keraslab run NAME`` does, and how."""

    name: str
    summary: str  # the first line of `keraslab run NAME --help`
    title: str  # its heading in the `keraslab lab --all` report
    module: str  # keraslab.beyond.<module>.run runs it
    notebook: str  # its lesson in labs/
    backend: str  # the Keras backend it prefers on a CPU
    options: tuple[Option, ...]  # besides --out and --overwrite
    report_metrics: tuple[str, ...] = ()  # metrics.json keys shown in its report section


DATA_DIR = Option("--data-dir", Path | None, None, DATA_DIR_HELP)


def _epochs(default: int) -> Option:
    return Option("--epochs", int, default, "Training epochs.", {"min": 1})


TOPICS: dict[str, Topic] = {
    topic.name: topic
    for topic in (
        Topic("callbacks", "Keras callbacks: early stopping, checkpoints, learning-rate schedules, logs, TensorBoard.",
              "Callbacks", "callbacks", "08_callbacks.py", "jax",
              (DATA_DIR, Option("--epochs", int, 30, "Epoch budget of the early-stopping run.", {"min": 1}),
               Option("--patience", int, 3, "EarlyStopping: epochs without a lower validation loss before it stops.",
                      {"min": 1}),
               Option("--schedule-epochs", int, 10, "Epochs of the cosine-decay and ReduceLROnPlateau runs "
                      "(at most --epochs).", {"min": 1}),
               Option("--train-images", int, 60_000, "Training images used, at most (1/6 of them held out for "
                      "validation).", {"min": 2})),
              ("best_val_loss", "restored_val_loss", "best_epoch", "stopped_epoch", "epochs_budget",
               "test_accuracy")),
        Topic("initialisation",
              "Initial values of the weights: zeros, constants, small and large normals, Glorot and He, in a deep MLP.",
              "Initial values of the weights", "initialisation", "09_initialisation.py", "jax",
              (DATA_DIR, _epochs(5), Option("--train-images", int, 60_000, "Training images used (1/6 of them held "
                                            "out for validation).", {"min": 6})),
              ("fastest_relu", "fastest_tanh", "relu_he_activation_std_ratio", "tanh_glorot_activation_std_ratio",
               "relu_small_normal_gradient_std_ratio", "relu_large_normal_gradient_std_ratio",
               "tanh_large_normal_saturated_fraction")),
        Topic("autoencoder", "Autoencoders on Fashion-MNIST: dense, convolutional and denoising; the bottleneck size.",
              "Unsupervised learning: autoencoders", "autoencoder", "10_autoencoders.py", "tensorflow",
              (DATA_DIR, _epochs(5),
               Option("--bottlenecks", str, "2,8,32", "Bottleneck sizes of the dense autoencoders, comma-separated; "
                      "the convolutional and denoising ones use the largest."),
               Option("--train-images", int, 20_000, "Train on the first so many training images (of 60,000).",
                      {"min": 10}),
               Option("--noise", float, 0.5, "Standard deviation of the Gaussian noise on the pixels (0..1) for the "
                      "denoising autoencoder.", {"min": 0.0})),
              ("test_mse_bottleneck_2", "test_mse_bottleneck_8", "test_mse_bottleneck_32", "test_mse_conv",
               "test_mse_noisy", "test_mse_denoised")),
        Topic("toptag-anomaly",
              "Anomaly detection on jets: an autoencoder trained on QCD jets only, its error as a top tagger.",
              "Anomaly detection on jets", "anomaly", "11_anomaly_jets.py", "tensorflow",
              (Option("--jets", Path | None, None, "Jets folder (keraslab toptag generate); else $KERASLAB_JETS_DIR "
                      "or data/jets; else a small folder is generated into the run folder (needs the generate extra)."),
               _epochs(20),
               Option("--bottleneck", int, 32, "Numbers in the autoencoder's bottleneck.", {"min": 1})),
              ("auc", "auc_uncertainty", "rejection_at_30", "cnn_auc", "cnn_auc_uncertainty", "cnn_rejection_at_30",
               "mass_correlation_qcd", "mass_correlation_qcd_uncertainty", "qcd_mass_mean_before_cut",
               "qcd_mass_mean_before_cut_uncertainty", "qcd_mass_mean_after_cut", "qcd_mass_mean_after_cut_uncertainty")),
        Topic("backends", "The same network on every installed Keras backend, and one training loop by hand in JAX.",
              "Alternative libraries: Keras backends", "backends", "12_backends.py", "jax", (DATA_DIR, _epochs(5)),
              tuple(f"{name}_{metric}" for metric in ("seconds_per_epoch", "time_ratio", "test_accuracy")
                    for name in ("tensorflow", "jax", "torch", "jax_by_hand"))
              + ("max_abs_difference", "same_class_fraction")),
    )
}
