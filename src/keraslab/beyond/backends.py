"""Alternative libraries: the slides' Fashion-MNIST MLP on every installed Keras 3 backend, and once by hand in JAX.

Keras 3 runs the same model code on TensorFlow, JAX or PyTorch. The backend is fixed
once per Python process (``KERAS_BACKEND`` before the first ``import keras``), so each
backend trains in its own process: a ``Worker`` runs this module as
``python -m keraslab.beyond.backends BACKEND ...``, builds ``models.build("fashion-mlp")``
(the network labs/12_backends.py writes in Keras, twin-tested), compiles it as
labs/03 does (Adam, sparse categorical cross-entropy, batch 32) and answers one JSON
line per request on its stdout: train one epoch, evaluate, save a ``.keras`` file,
predict the test images with a ``.keras`` file saved by any backend.

``compare`` alternates the backends epoch by epoch (a slower stretch of a shared CPU
hits all of them alike) and reports the median seconds per epoch after the first (which
includes tracing and compilation), the test accuracy, and, for the same weights loaded
into each backend, the largest difference of the predicted probabilities and the
fraction of identical classes. ``init_params``/``loss``/``sgd_step``/``adam_step``/
``train_by_hand`` are the same training written by hand with ``jax.grad``: what
``fit`` does. ``run`` is ``keraslab run backends``.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from keraslab.errors import UserError

BACKENDS = ("tensorflow", "jax", "torch")  # the Keras 3 backends keraslab knows
DISTRIBUTIONS = {"tensorflow": ("tensorflow-cpu", "tensorflow"), "jax": ("jax",), "torch": ("torch",)}
TORCH_INSTALL = "pip install 'keraslab[torch]'"
# The claim: the same weights give the same probabilities on every backend within float32 rounding.
# Probabilities lie in [0, 1]; float32 carries 7 digits, and the backends sum the 784 + 512 + 512
# products of each unit in different orders: measured differences are about 1e-7 (docs/beyond/backends.md).
AGREEMENT_TOLERANCE = 1e-5
BATCH_SIZE = 32  # the slides' recipe (labs/03)
LEARNING_RATE = 1e-3  # Keras' Adam default
HAND = "jax_by_hand"  # the loop written by hand, next to the backends in metrics and figures
PROTOCOL = "@keraslab "  # prefix of the worker's answer lines on stdout


def installed() -> dict[str, str | None]:
    """Backend -> installed version, or None where it is missing."""
    versions: dict[str, str | None] = {}
    for backend in BACKENDS:
        versions[backend] = None
        if importlib.util.find_spec(backend) is None:
            continue
        for distribution in DISTRIBUTIONS[backend]:
            try:
                versions[backend] = importlib.metadata.version(distribution)
                break
            except importlib.metadata.PackageNotFoundError:
                continue
    return versions


def missing_hint(backend: str) -> str:
    """How to install a missing backend."""
    return TORCH_INSTALL if backend == "torch" else f"pip install {backend}"


# ----------------------------------------------------------------------------------------
# One process per backend
# ----------------------------------------------------------------------------------------

class Worker:
    """A Python process with ``KERAS_BACKEND=backend`` holding the Fashion-MNIST MLP and its data.

    ``request(do=..., ...)`` sends one command and returns the answer (a dict); a failure
    in the worker is a ``UserError`` with its last line (the whole log is in ``log``).
    """

    def __init__(self, backend: str, folder: Path, *, data_dir: Path | str | None, train_size: int | None,
                 test_size: int | None, batch_size: int = BATCH_SIZE, seed: int = 0) -> None:
        self.backend = backend
        self.log = Path(folder) / f"worker-{backend}.log"
        command = [sys.executable, "-m", "keraslab.beyond.backends", backend, "--batch-size", str(batch_size),
                   "--seed", str(seed)]
        for flag, value in (("--data-dir", data_dir), ("--train-size", train_size), ("--test-size", test_size)):
            if value is not None:
                command += [flag, str(value)]
        environment = os.environ | {"KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
        with self.log.open("w") as log:
            self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                            text=True, env=environment)
        self._ready: dict | None = None

    @property
    def ready(self) -> dict:
        """The worker's first answer (its Keras version, the data's size), waited for on first use, so that
        several workers can start at once."""
        if self._ready is None:
            self._ready = self._answer()
        return self._ready

    def _answer(self) -> dict:
        for line in self.process.stdout:
            if line.startswith(PROTOCOL):
                answer = json.loads(line[len(PROTOCOL):])
                if "error" in answer:
                    self.close()
                    raise UserError(f"{self.backend}: {answer['error']}")
                return answer
        self.close()
        lines = [line for line in self.log.read_text().splitlines() if line.strip()]
        raise UserError(f"the {self.backend} process ended unexpectedly ({lines[-1] if lines else 'no output'}); "
                        f"see {self.log}")

    def request(self, do: str, **arguments) -> dict:
        self.process.stdin.write(json.dumps({"do": do, **arguments}) + "\n")
        self.process.stdin.flush()
        return self._answer()

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.stdin.close()  # the worker ends at the end of its input
                self.process.wait(timeout=60)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


def _serve(backend: str, data_dir: str | None, train_size: int | None, test_size: int | None, batch_size: int,
           seed: int) -> None:
    """The worker's side: answer the commands on stdin, one JSON line each (see ``Worker``)."""
    answers, sys.stdout = sys.stdout, sys.stderr  # only answers on the real stdout; prints go to the log

    def answer(**values) -> None:
        answers.write(PROTOCOL + json.dumps(values) + "\n")
        answers.flush()

    try:
        if os.environ.get("KERAS_BACKEND") != backend:
            raise UserError(f"KERAS_BACKEND must be {backend} in this process")
        if backend in ("tensorflow", "jax"):
            from keraslab.backend import select

            select(backend)  # JAX: its persistent compilation cache, as for every keraslab run
        import keras

        from keraslab import models
        from keraslab.day1 import fashion_mnist

        (train_images, train_labels), (test_images, test_labels) = fashion_mnist.load(data_dir)
        train_images, train_labels = fashion_mnist.scale(train_images[:train_size]), train_labels[:train_size]
        test_images, test_labels = fashion_mnist.scale(test_images[:test_size]), test_labels[:test_size]
        keras.utils.set_random_seed(seed)
        model = models.build("fashion-mlp")
        model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    except Exception as err:  # noqa: BLE001 - any failure goes back to the parent as one line
        answer(error=str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__)
        return
    answer(backend=keras.backend.backend(), keras=keras.__version__, train_images=len(train_images),
           test_images=len(test_images))
    for line in sys.stdin:
        command = json.loads(line)
        try:
            if command["do"] == "epoch":
                start = time.perf_counter()
                history = model.fit(train_images, train_labels, batch_size=batch_size, epochs=1, verbose=0)
                seconds = time.perf_counter() - start
                answer(seconds=seconds, **{key: float(values[-1]) for key, values in history.history.items()})
            elif command["do"] == "evaluate":
                loss, accuracy = model.evaluate(test_images, test_labels, batch_size=1024, verbose=0)
                answer(test_loss=float(loss), test_accuracy=float(accuracy))
            elif command["do"] == "save":
                model.save(command["path"])
                answer(path=command["path"])
            elif command["do"] == "predict":  # with the weights of a .keras file, saved on any backend
                loaded = keras.saving.load_model(command["model"])
                np.save(command["out"], keras.ops.convert_to_numpy(loaded.predict(test_images, batch_size=1024,
                                                                                   verbose=0)))
                answer(out=command["out"])
            else:
                answer(error=f"unknown command {command['do']!r}")
        except Exception as err:  # noqa: BLE001
            answer(error=f"{command['do']}: {type(err).__name__}: {err}")


def agreement(reference: np.ndarray, other: np.ndarray) -> dict[str, float]:
    """Largest |difference| of two sets of class probabilities, and the fraction of identical top classes."""
    reference, other = np.asarray(reference, np.float64), np.asarray(other, np.float64)
    return {"max_abs_difference": float(np.max(np.abs(reference - other))),
            "same_class_fraction": float(np.mean(reference.argmax(axis=1) == other.argmax(axis=1)))}


def median_epoch_seconds(seconds: Sequence[float]) -> float:
    """The median of the epochs after the first (the first also traces and compiles), or the only one."""
    return float(statistics.median(seconds[1:] if len(seconds) > 1 else seconds))


def compare(backends: Sequence[str], folder: Path | str, *, epochs: int, data_dir: Path | str | None = None,
            train_size: int | None = None, test_size: int | None = None, batch_size: int = BATCH_SIZE,
            seed: int = 0, progress: Callable[[str], None] = print) -> dict:
    """Train the MLP on each backend (one process each, epochs alternating), then move the weights between them.

    Writes ``fashion_mlp_<backend>.keras`` and the predicted test probabilities
    ``predictions_<saved on>_on_<loaded on>.npy`` into ``folder``. Returns
    ``{"backends": {backend: {"epoch_seconds", "history", "test_accuracy", "seconds_per_epoch", "time_ratio",
    "keras"}}, "agreement": {"<saved on> -> <loaded on>": {"max_abs_difference", "same_class_fraction"}},
    "max_abs_difference", "same_class_fraction"}`` (the worst pair's).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if epochs < 1:
        raise UserError(f"the number of epochs must be positive, got {epochs}")
    workers: dict[str, Worker] = {}
    try:
        for backend in backends:
            progress(f"starting a Python process with KERAS_BACKEND={backend} ...")
            workers[backend] = Worker(backend, folder, data_dir=data_dir, train_size=train_size,
                                      test_size=test_size, batch_size=batch_size, seed=seed)
        results = {backend: {"keras": worker.ready["keras"], "epoch_seconds": [], "history": {}}
                   for backend, worker in workers.items()}
        for epoch in range(epochs):
            order = list(workers) if epoch % 2 == 0 else list(reversed(workers))  # alternate who goes first
            for backend in order:
                answer = workers[backend].request("epoch")
                results[backend]["epoch_seconds"].append(answer.pop("seconds"))
                for key, value in answer.items():
                    results[backend]["history"].setdefault(key, []).append(value)
            progress(f"epoch {epoch + 1}/{epochs}: " + ", ".join(
                f"{backend} {results[backend]['epoch_seconds'][-1]:.1f} s (loss "
                f"{results[backend]['history']['loss'][-1]:.3f})" for backend in workers))
        own: dict[str, np.ndarray] = {}
        for backend, worker in workers.items():
            results[backend] |= worker.request("evaluate")
            saved = folder / f"fashion_mlp_{backend}.keras"
            worker.request("save", path=str(saved))
            own[backend] = _predict(worker, saved, folder, backend, backend)
        pairs = {}
        for source in workers:  # the weights saved on one backend, loaded on each other one
            for target, worker in workers.items():
                if target != source:
                    moved = _predict(worker, folder / f"fashion_mlp_{source}.keras", folder, source, target)
                    pairs[f"{source} -> {target}"] = agreement(own[source], moved)
                    progress(f"saved on {source}, loaded on {target}: max |Δ probability| "
                             f"{pairs[f'{source} -> {target}']['max_abs_difference']:.1e}, same class for "
                             f"{pairs[f'{source} -> {target}']['same_class_fraction']:.2%} of the test images")
    finally:
        for worker in workers.values():
            worker.close()
    fastest = min(median_epoch_seconds(r["epoch_seconds"]) for r in results.values())
    for r in results.values():
        r["seconds_per_epoch"] = median_epoch_seconds(r["epoch_seconds"])
        r["time_ratio"] = r["seconds_per_epoch"] / fastest
    return {"backends": results, "agreement": pairs,
            "max_abs_difference": max((p["max_abs_difference"] for p in pairs.values()), default=0.0),
            "same_class_fraction": min((p["same_class_fraction"] for p in pairs.values()), default=1.0)}


def _predict(worker: Worker, model: Path, folder: Path, saved_on: str, loaded_on: str) -> np.ndarray:
    out = folder / f"predictions_{saved_on}_on_{loaded_on}.npy"
    worker.request("predict", model=str(model), out=str(out))
    return np.load(out)


# ----------------------------------------------------------------------------------------
# The same training by hand in JAX: what fit does
# ----------------------------------------------------------------------------------------

LAYER_SIZES = (784, 512, 512, 10)  # the slides' MLP: Flatten, Dense(512, relu) twice, Dense(10, softmax)


def init_params(seed: int = 0, sizes: Sequence[int] = LAYER_SIZES) -> list[tuple]:
    """[(W, b) per layer]: Glorot-uniform weights and zero biases, as Keras' Dense starts."""
    import jax
    import jax.numpy as jnp

    keys = jax.random.split(jax.random.key(seed), len(sizes) - 1)
    params = []
    for key, n_in, n_out in zip(keys, sizes[:-1], sizes[1:]):
        limit = np.sqrt(6 / (n_in + n_out))
        params.append((jax.random.uniform(key, (n_in, n_out), minval=-limit, maxval=limit), jnp.zeros(n_out)))
    return params


def logits(params, images):
    """The network's output before the softmax, for images of shape (n, 28, 28) or (n, 784)."""
    import jax

    x = images.reshape(len(images), -1)
    for weights, bias in params[:-1]:
        x = jax.nn.relu(x @ weights + bias)
    weights, bias = params[-1]
    return x @ weights + bias


def loss(params, images, labels):
    """Mean sparse categorical cross-entropy (the softmax folded in, as Keras does for stability)."""
    import jax
    import jax.numpy as jnp

    log_probabilities = jax.nn.log_softmax(logits(params, images))
    return -jnp.mean(jnp.take_along_axis(log_probabilities, labels[:, None], axis=1))


def sgd_step(params, images, labels, learning_rate):
    """One step of plain gradient descent: each parameter minus the learning rate times its gradient."""
    import jax

    gradients = jax.grad(loss)(params, images, labels)
    return jax.tree.map(lambda p, g: p - learning_rate * g, params, gradients)


def adam_step(params, moments, step, images, labels, learning_rate=LEARNING_RATE, beta1=0.9, beta2=0.999,
              epsilon=1e-7):
    """One step of Adam as Keras computes it; ``moments`` = (first, second), ``step`` counts from 1.
    Returns the new parameters and moments, and the batch's loss before the step (what fit averages)."""
    import jax
    import jax.numpy as jnp

    batch_loss, gradients = jax.value_and_grad(loss)(params, images, labels)
    first, second = moments
    first = jax.tree.map(lambda m, g: beta1 * m + (1 - beta1) * g, first, gradients)
    second = jax.tree.map(lambda v, g: beta2 * v + (1 - beta2) * g * g, second, gradients)
    rate = learning_rate * jnp.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
    params = jax.tree.map(lambda p, m, v: p - rate * m / (jnp.sqrt(v) + epsilon), params, first, second)
    return params, (first, second), batch_loss


def accuracy(params, images, labels) -> float:
    """Fraction of images whose largest logit is the true class."""
    return float(np.mean(np.asarray(logits(params, images)).argmax(axis=1) == np.asarray(labels)))


def train_by_hand(train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray], *, epochs: int,
                  batch_size: int = BATCH_SIZE, learning_rate: float = LEARNING_RATE, seed: int = 0,
                  progress: Callable[[str], None] = print) -> dict:
    """Adam by hand on shuffled batches, ``epochs`` times; returns history, epoch seconds and test accuracy."""
    import jax
    import jax.numpy as jnp

    step_function = jax.jit(adam_step)
    params = init_params(seed)
    moments = (jax.tree.map(jnp.zeros_like, params), jax.tree.map(jnp.zeros_like, params))
    images, labels = np.asarray(train[0]), np.asarray(train[1], dtype=np.int32)  # NumPy: batches are cheap copies
    rng = np.random.default_rng(seed)
    step, history, seconds = 0, {"loss": []}, []
    for epoch in range(epochs):
        start = time.perf_counter()
        order = rng.permutation(len(images))
        losses = []
        for first in range(0, len(order), batch_size):
            batch = order[first:first + batch_size]
            step += 1
            params, moments, batch_loss = step_function(params, moments, step, images[batch], labels[batch],
                                                        learning_rate)
            losses.append(batch_loss)
        history["loss"].append(float(np.mean(jax.device_get(losses))))  # as fit: the mean of the batches' losses
        seconds.append(time.perf_counter() - start)
        progress(f"by hand, epoch {epoch + 1}/{epochs}: {seconds[-1]:.1f} s (loss {history['loss'][-1]:.3f})")
    return {"params": params, "history": history, "epoch_seconds": seconds,
            "seconds_per_epoch": median_epoch_seconds(seconds),
            "test_accuracy": accuracy(params, test[0], test[1])}


# ----------------------------------------------------------------------------------------
# keraslab run backends
# ----------------------------------------------------------------------------------------

def comparison_figure(results: dict, by_hand: dict | None = None, *, ax=None):
    """Three panels: seconds per epoch (median after the first), test accuracy, training loss per epoch."""
    from keraslab import figures

    figure, axes = figures.axes_or_new(ax, (13, 3.8), ncols=3)
    rows = {backend: r for backend, r in results["backends"].items()} | ({HAND: by_hand} if by_hand else {})
    names = list(rows)
    colours = [f"C{i}" for i in range(len(names))]
    axes[0].bar(names, [rows[n]["seconds_per_epoch"] for n in names], color=colours)
    axes[0].set(ylabel="seconds per epoch (median after the 1st)", title="fit time")
    axes[1].bar(names, [rows[n]["test_accuracy"] for n in names], color=colours)
    axes[1].set(ylabel="test accuracy", ylim=(0, 1), title="test accuracy")
    for bar_axes in axes[:2]:
        bar_axes.tick_params(axis="x", rotation=20)
    for name, colour in zip(names, colours):
        values = rows[name]["history"]["loss"]
        axes[2].plot(np.arange(1, len(values) + 1), values, "o-", color=colour, label=name)
    axes[2].set(xlabel="epoch", ylabel="training loss", title="learning curves")
    axes[2].legend()
    for panel in axes:
        panel.grid(alpha=0.3)
    return figure


def run(topic, out: Path | str, overwrite: bool = False, *, data_dir: Path | str | None = None,
        epochs: int = 5) -> dict:
    """``keraslab run backends``: every installed backend, then the loop by hand; writes the run folder."""
    from keraslab import figures
    from keraslab.day1 import fashion_mnist
    from keraslab.training import prepare_run_dir, write_json, write_metrics

    if epochs < 1:
        raise UserError(f"the number of epochs must be positive, got {epochs}")
    ((train_images, train_labels), (test_images, test_labels)), source = fashion_mnist.load_with_source(data_dir)
    run_dir = prepare_run_dir(out, overwrite=overwrite)
    versions = installed()
    available = [backend for backend, version in versions.items() if version]
    missing = {backend: missing_hint(backend) for backend, version in versions.items() if not version}
    for backend, hint in missing.items():
        print(f"{backend} is not installed, so it is left out: {hint}")
    results = compare(available, run_dir, epochs=epochs, data_dir=data_dir)
    print("the same loop by hand in JAX (jax.grad, Adam written out) ...")
    by_hand = train_by_hand((fashion_mnist.scale(train_images), train_labels),
                            (fashion_mnist.scale(test_images), test_labels), epochs=epochs)
    by_hand.pop("params")
    by_hand["time_ratio"] = by_hand["seconds_per_epoch"] / min(r["seconds_per_epoch"]
                                                               for r in results["backends"].values())
    rows = results["backends"] | {HAND: by_hand}
    write_json(run_dir / "history.json", {name: r["history"] | {"epoch_seconds": r["epoch_seconds"]}
                                          for name, r in rows.items()})
    figures.save(comparison_figure(results, by_hand), run_dir / "backends.png")
    metrics = {
        "backends": available,
        "missing": missing,
        "versions": {backend: version for backend, version in versions.items() if version},
        "epochs_run": epochs,
        "train_images": len(train_images),
        "test_images": len(test_images),
        "batch_size": BATCH_SIZE,
        "data_source": source,
        "fit_seconds": round(sum(sum(r["epoch_seconds"]) for r in rows.values()), 3),
        **{f"{name}_seconds_per_epoch": round(r["seconds_per_epoch"], 3) for name, r in rows.items()},
        **{f"{name}_time_ratio": round(r["time_ratio"], 3) for name, r in rows.items()},
        **{f"{name}_first_epoch_seconds": round(r["epoch_seconds"][0], 3) for name, r in rows.items()},
        **{f"{name}_test_accuracy": r["test_accuracy"] for name, r in rows.items()},
        "agreement": results["agreement"],
        "max_abs_difference": results["max_abs_difference"],
        "same_class_fraction": results["same_class_fraction"],
        "agreement_tolerance": AGREEMENT_TOLERANCE,
        "same_predictions": results["max_abs_difference"] <= AGREEMENT_TOLERANCE,
    }
    write_metrics(run_dir, metrics)
    return metrics


def _main(arguments: Sequence[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="One backend's worker for keraslab.beyond.backends.Worker.")
    parser.add_argument("backend", choices=BACKENDS)
    parser.add_argument("--data-dir")
    parser.add_argument("--train-size", type=int)
    parser.add_argument("--test-size", type=int)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args(arguments)
    _serve(options.backend, options.data_dir, options.train_size, options.test_size, options.batch_size, options.seed)


if __name__ == "__main__":
    _main(sys.argv[1:])
