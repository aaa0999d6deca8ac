"""Autoencoders on Fashion-MNIST (labs/10_autoencoders.py): ``keraslab run autoencoder`` and the lesson's figures.

An autoencoder learns to give back its input through a narrow layer, the bottleneck:
images in, the same images as targets, the mean squared error (MSE) per pixel as the
loss; the class labels are never used in training. ``run`` trains the dense
autoencoder for each bottleneck size, the convolutional one and a denoising
convolutional one (noisy images in, clean images as targets), each with
``training.fit_run`` in its own folder of the run folder, and writes

* ``metrics.json``: the test MSE per bottleneck (``test_mse_bottleneck_<size>``), of the
  convolutional autoencoder at the largest bottleneck (``test_mse_conv``), of the noisy
  and of the denoised test images against the clean ones (``test_mse_noisy``,
  ``test_mse_denoised``), each with its standard error over the test images in
  ``test_mse_error``; ``mse_falls_with_bottleneck``, the lesson's claim;
* ``history.json``: each network's ``fit`` history, by network;
* ``reconstructions.png``, ``latent_space.png``, ``bottleneck_error.png``, ``denoising.png``.

The figure functions draw on a given matplotlib ``ax`` (``keraslab.figures``
conventions); the notebook uses them too. Import this module after choosing the
backend: it imports Keras.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import keras
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import ScalarFormatter

from keraslab import figures, models, training
from keraslab.beyond.catalog import Topic
from keraslab.day1 import fashion_mnist
from keraslab.day1.commands import parse_sizes
from keraslab.errors import UserError

BATCH_SIZE = 256
VALIDATION = 0.1  # the last tenth of the training images: the validation loss per epoch
STEPS_PER_EXECUTION = 32  # batches per compiled call: the same maths, less Python overhead (docs/day1.md)
SHOWN = 8  # test images per row in the figures
NOISE_SEED, TEST_NOISE_SEED = 1, 2
SEED = 0  # the same initial weights and batch order in every run (not verified bit for bit on TensorFlow)


def add_noise(images: np.ndarray, std: float, seed: int = 0) -> np.ndarray:
    """``images`` plus Gaussian noise of standard deviation ``std``, clipped back to the pixels' range [0, 1]."""
    rng = np.random.default_rng(seed)
    return np.clip(images + rng.normal(0.0, std, images.shape), 0.0, 1.0).astype(np.float32)


def image_errors(reconstructions: np.ndarray, images: np.ndarray) -> np.ndarray:
    """The MSE of each image: the mean over its pixels of (reconstruction - image)²."""
    difference = np.asarray(reconstructions, dtype=np.float64) - np.asarray(images, dtype=np.float64)
    return np.mean(difference.reshape(len(images), -1) ** 2, axis=1)


def mean_and_error(errors: np.ndarray) -> tuple[float, float]:
    """The mean of per-image errors and its standard error (the spread over the test images / sqrt(n))."""
    errors = np.asarray(errors, dtype=np.float64)
    return float(errors.mean()), float(errors.std(ddof=1) / np.sqrt(len(errors))) if len(errors) > 1 else 0.0


def encoder(autoencoder: keras.Model) -> keras.Model:
    """The first half of ``autoencoder``: its input to its layer named "bottleneck" (the code)."""
    return keras.Model(autoencoder.inputs, autoencoder.get_layer("bottleneck").output)


# --- figures -----------------------------------------------------------------------------------------


def image_rows(rows: Mapping[str, np.ndarray], *, ax=None, count: int = SHOWN) -> Figure:
    """One row per entry of ``rows`` (its label on the left): its first ``count`` images, e.g.
    originals next to reconstructions, or noisy / denoised / clean.

    ``ax``: a (len(rows), count) array of Axes, or None for a new figure.
    """
    count = min(count, *(len(images) for images in rows.values()))
    if ax is None:
        figure = Figure(figsize=(1.3 * count + 0.8, 1.4 * len(rows)))
        ax = figure.subplots(len(rows), count, squeeze=False)
    ax = np.asarray(ax).reshape(len(rows), -1)
    for row, (label, images) in zip(ax, rows.items()):
        for column, panel in enumerate(row):
            panel.set(xticks=[], yticks=[])
            if column < count:
                panel.imshow(np.asarray(images[column]).reshape(28, 28), cmap="binary", vmin=0, vmax=1)
        row[0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    return ax[0, 0].figure


def latent_space(codes: np.ndarray, labels: np.ndarray, class_names: Sequence[str] = fashion_mnist.CLASS_NAMES,
                 *, ax=None) -> Figure:
    """Each image's code as a point, coloured by its class (which training never saw).

    Codes of more than two numbers are shown along their first two principal components.
    """
    from matplotlib import colormaps

    figure, ax = figures.axes_or_new(ax, (7, 6))
    codes = np.asarray(codes, dtype=np.float64)
    xlabel, ylabel = "code 1", "code 2"
    if codes.shape[1] > 2:
        from sklearn.decomposition import PCA

        codes = PCA(n_components=2).fit_transform(codes)
        xlabel, ylabel = "principal component 1 of the code", "principal component 2"
    for number, name in enumerate(class_names):
        chosen = np.asarray(labels) == number
        ax.scatter(codes[chosen, 0], codes[chosen, 1], s=3, alpha=0.5, color=colormaps["tab10"](number % 10),
                   label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel, title="the code of each test image (labels unused in training)")
    ax.legend(markerscale=4, fontsize=8, loc="best")
    return figure


def bottleneck_error(curves: Mapping[str, Mapping[int, tuple[float, float]]], *, ax=None) -> Figure:
    """Test MSE (with its standard error) against the bottleneck size, one line per kind of autoencoder.

    ``curves``: label -> {bottleneck size: (mean MSE, standard error)}.
    """
    figure, ax = figures.axes_or_new(ax, (6, 4))
    for (label, points), marker in zip(curves.items(), "os^Dv"):
        sizes = sorted(points)
        ax.errorbar(sizes, [points[s][0] for s in sizes], yerr=[points[s][1] for s in sizes], marker=marker,
                    capsize=3, label=label)
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted({size for points in curves.values() for size in points}))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.set(xlabel="bottleneck size (numbers per image)", ylabel="test MSE per pixel",
           title="reconstruction error on the test images")
    ax.grid(alpha=0.3)
    ax.legend()
    return figure


# --- keraslab run autoencoder ------------------------------------------------------------------------


def _compiled(network: str, bottleneck: int) -> keras.Model:
    model = models.build(network, bottleneck=bottleneck)
    model.compile(optimizer="adam", loss="mse", steps_per_execution=STEPS_PER_EXECUTION)
    return model


def run(topic: Topic, out: Path, overwrite: bool = False, *, epochs: int, bottlenecks: str, train_images: int,
        noise: float, data_dir: Path | None = None) -> dict:
    """Train the dense autoencoder per bottleneck size, the convolutional one and a denoising one; see the module docstring.

    ``bottlenecks``: comma-separated sizes, e.g. "2,8,32"; the convolutional and the
    denoising autoencoders use the largest. ``train_images``: the first so many
    training images (of 60,000); ``noise``: the standard deviation of the Gaussian noise
    added to the pixels (in [0, 1]) for the denoising autoencoder.
    """
    sizes = sorted(set(parse_sizes("--bottlenecks", bottlenecks)))
    if not noise > 0:
        raise UserError(f"--noise must be a positive standard deviation, got {noise}")
    run_dir = training.prepare_run_dir(out, overwrite=overwrite)
    keras.utils.set_random_seed(SEED)
    (train, test), source = fashion_mnist.load_with_source(data_dir)
    x_train, x_test, y_test = fashion_mnist.scale(train[0][:train_images]), fashion_mnist.scale(test[0]), test[1]
    noisy_train = add_noise(x_train, noise, seed=NOISE_SEED)
    noisy_test = add_noise(x_test, noise, seed=TEST_NOISE_SEED)
    largest = sizes[-1]
    trainings = [(f"dense-{size}", "dense-autoencoder", size, x_train) for size in sizes]
    trainings += [(f"conv-{largest}", "conv-autoencoder", largest, x_train),
                  (f"denoising-conv-{largest}", "conv-autoencoder", largest, noisy_train)]
    trained, histories, seconds = {}, {}, 0.0
    for number, (name, network, size, inputs) in enumerate(trainings, start=1):
        print(f"\n=== {name}: {network}, bottleneck {size}, {len(x_train)} images ({number} of {len(trainings)}) ===",
              flush=True)
        result = training.fit_run(_compiled(network, size), (inputs, x_train), run_dir=run_dir / name, epochs=epochs,
                                  batch_size=BATCH_SIZE, validation=VALIDATION)
        trained[name], histories[name] = result.model, result.history
        seconds += result.fit_seconds

    def reconstruct(name: str, images: np.ndarray = x_test) -> np.ndarray:
        return trained[name].predict(images, batch_size=1024, verbose=0)

    reconstructions = {name: reconstruct(name) for name in trained if not name.startswith("denoising")}
    denoised = reconstruct(f"denoising-conv-{largest}", noisy_test)
    results = {f"test_mse_bottleneck_{size}": mean_and_error(image_errors(reconstructions[f"dense-{size}"], x_test))
               for size in sizes}
    results["test_mse_conv"] = mean_and_error(image_errors(reconstructions[f"conv-{largest}"], x_test))
    results["test_mse_noisy"] = mean_and_error(image_errors(noisy_test, x_test))
    results["test_mse_denoised"] = mean_and_error(image_errors(denoised, x_test))
    dense_curve = [results[f"test_mse_bottleneck_{size}"][0] for size in sizes]

    figures.save(image_rows({"original": x_test, **{f"dense, {size}": reconstructions[f"dense-{size}"] for size in sizes},
                             f"conv, {largest}": reconstructions[f"conv-{largest}"]}), run_dir / "reconstructions.png")
    figures.save(latent_space(encoder(trained[f"dense-{sizes[0]}"]).predict(x_test, batch_size=1024, verbose=0),
                              y_test), run_dir / "latent_space.png")
    figures.save(bottleneck_error({"dense": {size: results[f"test_mse_bottleneck_{size}"] for size in sizes},
                                   "convolutional": {largest: results["test_mse_conv"]}}),
                 run_dir / "bottleneck_error.png")
    figures.save(image_rows({f"noisy (σ={noise:g})": noisy_test, "denoised": denoised, "clean": x_test}),
                 run_dir / "denoising.png")
    training.write_json(run_dir / "history.json", histories)
    from keraslab.backend import current

    return training.write_metrics(run_dir, {
        **{key: mean for key, (mean, _) in results.items()},
        "test_mse_error": {key: error for key, (_, error) in results.items()},
        "mse_falls_with_bottleneck": bool(np.all(np.diff(dense_curve) < 0)),
        "bottlenecks": sizes, "conv_bottleneck": largest, "noise": noise, "train_images": len(x_train),
        "test_images": len(x_test), "batch_size": BATCH_SIZE, "epochs_run": epochs,
        "fit_seconds": round(seconds, 3), "backend": current(), "data_source": source,
    })
