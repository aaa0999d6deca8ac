"""Initial values of the weights: a deep plain network under six initialisers, with tanh and with ReLU.

The lesson is labs/09_initialisation.py; ``keraslab run initialisation`` calls ``run``.
The network is ``deep-mlp`` (``keraslab.beyond.networks``): 10 Dense(100) layers on
Fashion-MNIST. For each initialiser of ``initializers()`` and each activation of
``ACTIVATIONS`` we measure, before any training,

* ``first_step``: every hidden layer's activations and the loss' gradient with respect
  to them (``jax.grad``), whose per-layer spread shows shrinking, exploding or saturated
  signals (``std_ratio``, ``saturated_fraction``);

and after a few epochs of Adam the loss (``train``), and whether the units of a layer
are still copies of each other (``unit_spread``). The figures draw on given Axes.
Import this module after choosing the backend (``keraslab.backend.select``): it imports
Keras, and ``first_step`` needs the JAX backend.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter, LogLocator, MaxNLocator, NullFormatter

from keraslab import figures, models, training
from keraslab.day1 import fashion_mnist
from keraslab.errors import UserError

NETWORK = "deep-mlp"
ACTIVATIONS = ("relu", "tanh")
CONSTANT = 0.01  # every weight 0.01: a ReLU layer of 100 inputs then keeps its scale, but all units are alike
SMALL_STDDEV = 0.01  # each ReLU layer multiplies the spread by sqrt(100 * 0.01**2 / 2) = 0.07
LARGE_STDDEV = 1.0  # ... by sqrt(100 * 1**2 / 2) = 7
STD_RATIO_BAND = (0.25, 4.0)  # "roughly constant": the last hidden layer's std within 4x of the first's
SATURATION = 0.99  # |tanh| above this passes almost no gradient (1 - 0.99**2 = 0.02)
SAME_UNITS = 1e-4  # units closer than this (relative) are copies: float32 round-off reached 5e-6 after 2,345 steps
FIRST_STEP_IMAGES = 256  # the batch whose first step is measured
BATCH_SIZE = 128
VALIDATION = 1 / 6  # held out of the training images, as in labs/04_overtraining.py
SEED = 0  # every variant starts from the same random state
LOSS_SHOWN = 3 * math.log(10)  # learning curves: 3x the loss of a uniform guess over the 10 classes


def initializers() -> dict[str, Any]:
    """The six initialisers compared: name -> a function that makes a new Keras initializer (one per layer)."""
    return {
        "zeros": keras.initializers.Zeros,
        "constant": lambda: keras.initializers.Constant(CONSTANT),
        "small-normal": lambda: keras.initializers.RandomNormal(stddev=SMALL_STDDEV),
        "large-normal": lambda: keras.initializers.RandomNormal(stddev=LARGE_STDDEV),
        "glorot": keras.initializers.GlorotUniform,  # Keras' default: variance 2 / (fan_in + fan_out)
        "he": keras.initializers.HeNormal,  # variance 2 / fan_in: ReLU switches off half the units
    }


def variant(activation: str, initializer: str) -> str:
    """The name of one network of the comparison, e.g. "relu he"."""
    return f"{activation} {initializer}"


@dataclass
class FirstStep:
    """Each hidden layer's activations and the loss' gradient with respect to them, before training."""

    activations: list[np.ndarray]
    gradients: list[np.ndarray]

    @property
    def activation_stds(self) -> np.ndarray:
        return np.array([np.std(values) for values in self.activations])

    @property
    def gradient_stds(self) -> np.ndarray:
        return np.array([np.std(values) for values in self.gradients])


def first_step(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> FirstStep:
    """The first step of training ``model`` (Flatten, hidden Dense layers, Dense logits) on one batch.

    Each hidden layer's output gets a "nudge" of zeros added: the gradient of the loss
    with respect to the nudges is the gradient with respect to the activations, which
    ``jax.grad`` returns with the activations themselves.
    """
    import jax

    if keras.backend.backend() != "jax":
        raise UserError(f"the first-step gradients are computed with jax.grad, but Keras runs on "
                        f"{keras.backend.backend()}: set KERAS_BACKEND=jax (or unset it) and restart")
    flatten, hidden, output = model.layers[0], model.layers[1:-1], model.layers[-1]

    def loss(nudges):
        h, activations = flatten(images), []
        for layer, nudge in zip(hidden, nudges):
            h = layer(h) + nudge
            activations.append(h)
        losses = keras.losses.sparse_categorical_crossentropy(labels, output(h), from_logits=True)
        return keras.ops.mean(losses), activations

    nudges = [keras.ops.zeros((len(images), layer.units)) for layer in hidden]
    gradients, activations = jax.grad(loss, has_aux=True)(nudges)
    return FirstStep([np.asarray(a) for a in activations], [np.asarray(g) for g in gradients])


def activation_stds(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """The std of each hidden layer's outputs (over all ``images`` and units), any backend."""
    probe = keras.Model(model.inputs[0], [layer.output for layer in model.layers[1:-1]])
    return np.array([np.std(keras.ops.convert_to_numpy(values)) for values in probe(images)])


def std_ratio(stds: np.ndarray) -> float:
    """``stds[-1] / stds[0]``; NaN where the first is 0 (nothing to compare)."""
    return float(stds[-1] / stds[0]) if stds[0] > 0 else math.nan


def saturated_fraction(values: np.ndarray) -> float:
    """The fraction of |activations| above ``SATURATION``: tanh units that pass (almost) no gradient."""
    return float(np.mean(np.abs(values) > SATURATION))


def unit_spread(kernel: np.ndarray) -> float:
    """How far the units (columns) of a Dense kernel differ from the first, relative to its largest weight.

    0 when every unit is a copy of the first: the layer might as well have one unit.
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    largest = np.max(np.abs(kernel))
    return float(np.max(np.abs(kernel - kernel[:, :1])) / largest) if largest > 0 else 0.0


def summary(step: FirstStep, activation: str) -> dict[str, float]:
    """The first step's numbers that the lesson's claims are about."""
    return {
        "activation_std_ratio": std_ratio(step.activation_stds),  # last / first hidden layer
        "gradient_std_ratio": std_ratio(step.gradient_stds[::-1]),  # first / last: < 1 vanishes, > 1 explodes
        "saturated_fraction": saturated_fraction(step.activations[-1]) if activation == "tanh" else math.nan,
    }


def in_band(ratio: float) -> bool:
    """Is the last/first std ``ratio`` "roughly constant" (``STD_RATIO_BAND``)?"""
    return STD_RATIO_BAND[0] <= ratio <= STD_RATIO_BAND[1]


# ---------------------------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------------------------


def _layer_colours(n: int):
    return colormaps["viridis"](np.linspace(0, 0.9, n))


def histograms(step: FirstStep, *, ax=None, title: str = "") -> Figure:
    """Per-layer histograms at the first step: activations (values) and gradients (log10 |value|); ``ax``: two Axes."""
    figure, axes = figures.axes_or_new(ax, (10, 3.4), ncols=2)
    colours = _layer_colours(len(step.activations))
    low, high = min(float(a.min()) for a in step.activations), max(float(a.max()) for a in step.activations)
    if high - low < 1e-6:  # every activation alike (zeros): a visible bin around them
        low, high = low - 1, high + 1
    for number, (values, colour) in enumerate(zip(step.activations, colours), start=1):
        axes[0].hist(values.ravel(), bins=60, range=(low, high), histtype="step", color=colour, label=f"layer {number}")
    axes[0].set(xlabel="activation", ylabel="count", yscale="log")
    logs = [np.log10(np.abs(g[g != 0])) for g in step.gradients]
    if any(log.size for log in logs):
        low, high = min(np.percentile(log, 0.5) for log in logs if log.size), max(log.max() for log in logs if log.size)
        for number, (log, colour) in enumerate(zip(logs, colours), start=1):
            axes[1].hist(log, bins=60, range=(low, high), histtype="step", color=colour, label=f"layer {number}")
        axes[1].legend(fontsize=7, ncols=2)
    else:
        axes[1].text(0.5, 0.5, "every gradient is 0", ha="center", va="center", transform=axes[1].transAxes)
    axes[1].set(xlabel="log10 |gradient of the loss w.r.t. the activation|", ylabel="count")
    for panel, what in zip(axes, ("activations", "gradients")):
        panel.set_title(f"{title}: {what}" if title else what, fontsize=10)
    return figure


def histogram_grid(steps: Mapping[str, FirstStep], *, title: str = "") -> Figure:
    """``histograms`` of several networks (name -> first step), one row each."""
    figure = Figure(figsize=(10, 2.6 * len(steps)))
    rows = figure.subplots(len(steps), 2, squeeze=False)
    for row, (name, step) in zip(rows, steps.items()):
        histograms(step, ax=row, title=name)
    if title:
        figure.suptitle(title)
    return figure


def std_per_layer(steps: Mapping[str, FirstStep], *, ax=None) -> Figure:
    """The std of the activations and of their gradients, layer by layer, one line per network; ``ax``: two Axes."""
    figure, axes = figures.axes_or_new(ax, (11, 4), ncols=2)
    for (name, step), colour in zip(steps.items(), colormaps["tab20"](np.linspace(0, 1, max(len(steps), 2)))):
        style = "--" if name.startswith("tanh") else "-"
        for panel, stds in zip(axes, (step.activation_stds, step.gradient_stds)):
            layers = np.arange(1, len(stds) + 1)
            shown = stds > 0  # zeros have no place on a log scale
            panel.plot(layers[shown], stds[shown], style, marker="o", markersize=3, color=colour, label=name)
    for panel, what in zip(axes, ("activations", "gradient w.r.t. the activations")):
        panel.set(xlabel="hidden layer", ylabel=f"std of the {what}", yscale="log", title=f"first step: {what}")
        panel.grid(alpha=0.3)
    axes[1].legend(fontsize=7, ncols=2)
    return figure


def learning_curves(histories: Mapping[str, Mapping[str, list]], *, ax=None) -> Figure:
    """Training loss per epoch (validation loss dashed), one panel per activation; ``histories``: name -> history.

    The loss axis ends at ``LOSS_SHOWN`` (3x the loss of a uniform guess); a network whose
    losses all lie above it is marked "off the scale" in the legend.
    """
    figure, axes = figures.axes_or_new(ax, (11, 4.8), ncols=len(ACTIVATIONS))
    for panel, activation in zip(np.atleast_1d(axes), ACTIVATIONS):
        chosen = {name: h for name, h in histories.items() if name.split()[0] == activation}
        for (name, history), colour in zip(chosen.items(), colormaps["tab10"](np.arange(len(chosen)))):
            for key, style in (("loss", "o-"), ("val_loss", "--")):
                values = np.asarray(history.get(key, []), dtype=float)
                epochs = np.arange(1, len(values) + 1)
                finite = np.isfinite(values)
                off = not np.any(values[finite] <= LOSS_SHOWN)
                label = name.split(maxsplit=1)[1] + (" (off the scale)" if off else "") if key == "loss" else None
                panel.plot(epochs[finite], values[finite], style, color=colour, markersize=3, label=label)
        panel.set(xlabel="epoch", ylabel="loss (training; validation dashed)", yscale="log", title=activation,
                  ylim=(None, LOSS_SHOWN))
        panel.xaxis.set_major_locator(MaxNLocator(integer=True))
        panel.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
        panel.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        panel.yaxis.set_minor_formatter(NullFormatter())
        panel.grid(alpha=0.3)
        panel.legend(fontsize=8, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.16))
    return figure


# ---------------------------------------------------------------------------------------------
# the comparison: keraslab run initialisation
# ---------------------------------------------------------------------------------------------


def _finite_or_none(value: float) -> float | None:
    """JSON has no NaN: a diverged or undefined number is null."""
    return value if math.isfinite(value) else None


def train(model: keras.Model, train_data, *, epochs: int, batch_size: int = BATCH_SIZE, verbose: int | str = 0):
    """Compile ``model`` with Adam and the cross-entropy of its logits, fit it; stop at a NaN loss."""
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model.fit(*train_data, batch_size=batch_size, epochs=epochs, validation_split=VALIDATION, verbose=verbose,
                     callbacks=[keras.callbacks.TerminateOnNaN()])


def fastest(losses: Mapping[str, float | None], activation: str) -> str:
    """The initialiser whose network of ``activation`` ended with the lowest training loss (None: diverged)."""
    chosen = {name.split()[1]: loss for name, loss in losses.items() if name.split()[0] == activation}
    return min(chosen, key=lambda name: math.inf if chosen[name] is None else chosen[name])


def run(topic, out: Path, overwrite: bool = False, *, epochs: int, train_images: int, data_dir: Path | None = None,
        verbose: int | str = 2) -> dict:
    """Every initialiser with every activation: first-step statistics, ``epochs`` of Adam on ``train_images`` images.

    Writes ``history.json`` (per network), the figures and ``metrics.json``; returns the metrics.
    """
    run_dir = training.prepare_run_dir(out, overwrite=overwrite)
    ((images, labels), _), source = fashion_mnist.load_with_source(data_dir)
    images, labels = fashion_mnist.scale(images[:train_images]), labels[:train_images]
    if len(images) < 6:
        raise UserError(f"{len(images)} training images are too few to hold out 1/6 for validation; "
                        "choose --train-images 6 or more")
    batch = images[:FIRST_STEP_IMAGES], labels[:FIRST_STEP_IMAGES]
    steps, histories, variants = {}, {}, {}
    for activation in ACTIVATIONS:
        for initializer, new in initializers().items():
            name = variant(activation, initializer)
            keras.utils.set_random_seed(SEED)
            model = models.build(NETWORK, kernel_initializer=new, activation=activation)
            steps[name] = first_step(model, *batch)
            started = time.perf_counter()
            history = train(model, (images, labels), epochs=epochs, verbose=verbose).history
            seconds = time.perf_counter() - started
            histories[name] = history
            middle = model.layers[len(model.layers) // 2].get_weights()[0]  # a hidden kernel after training
            numbers = {**summary(steps[name], activation), "unit_spread": unit_spread(middle)}
            variants[name] = {
                "loss": history["loss"][-1], "val_loss": history["val_loss"][-1] if "val_loss" in history else math.nan,
                "val_accuracy": history.get("val_accuracy", [math.nan])[-1], "epochs_run": len(history["loss"]),
                "params": model.count_params(), "fit_seconds": round(seconds, 3), "backend": keras.backend.backend(),
                **numbers,
            }
            variants[name] = {key: _finite_or_none(value) if isinstance(value, float) else value
                              for key, value in variants[name].items()}
            print(f"{name:20s} std last/first {numbers['activation_std_ratio']:9.2e}   gradient first/last "
                  f"{numbers['gradient_std_ratio']:9.2e}   validation loss {variants[name]['val_loss']}", flush=True)
    figures.save(std_per_layer(steps), run_dir / "std_per_layer.png")
    for activation in ACTIVATIONS:
        chosen = {name.split()[1]: step for name, step in steps.items() if name.split()[0] == activation}
        figures.save(histogram_grid(chosen, title=f"{activation}: the first step"), run_dir / f"histograms_{activation}.png")
    figures.save(learning_curves(histories), run_dir / "learning_curves.png")
    training.write_json(run_dir / "history.json", histories)
    # "trains fastest": the lowest training loss after the same steps (the validation loss of
    # close networks differs by less than its epoch-to-epoch noise)
    losses = {name: numbers["loss"] if numbers["epochs_run"] == epochs else None for name, numbers in variants.items()}
    return training.write_metrics(run_dir, {
        "part": topic.name, "network": NETWORK, "params": variants[variant("relu", "he")]["params"],
        "epochs": epochs, "train_images": len(images), "batch_size": BATCH_SIZE, "data_source": source,
        "fit_seconds": round(sum(v["fit_seconds"] for v in variants.values()), 3), "backend": keras.backend.backend(),
        **{f"fastest_{activation}": fastest(losses, activation) for activation in ACTIVATIONS},
        "relu_he_activation_std_ratio": variants["relu he"]["activation_std_ratio"],
        "tanh_glorot_activation_std_ratio": variants["tanh glorot"]["activation_std_ratio"],
        "relu_glorot_activation_std_ratio": variants["relu glorot"]["activation_std_ratio"],
        "relu_small_normal_gradient_std_ratio": variants["relu small-normal"]["gradient_std_ratio"],
        "relu_large_normal_gradient_std_ratio": variants["relu large-normal"]["gradient_std_ratio"],
        "tanh_large_normal_saturated_fraction": variants["tanh large-normal"]["saturated_fraction"],
        "variants": variants,
    })
