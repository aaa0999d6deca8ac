"""Seconds per training epoch of the autoencoder lesson's networks on TensorFlow and JAX (CPU).

Why ``keraslab run autoencoder`` prefers the backend named in its catalog entry
(``keraslab.beyond.catalog``). Each backend runs in its own process on the same
random "images" (the time does not depend on the pixels); the first epoch
(compilation) is left out. Prints a table::

    .venv/bin/python benchmarks/autoencoder_backends.py [--images 20000] [--epochs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

NETWORKS = ("dense-autoencoder", "conv-autoencoder")
BATCH_SIZE = 128  # keraslab.beyond.autoencoder.BATCH_SIZE

WORKER = """
import json, sys, time
import numpy as np
import keras
from keraslab import models
images, epochs, batch_size, network = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
x = np.random.default_rng(0).random((images, 28, 28), dtype=np.float32)
model = models.build(network)
model.compile(optimizer="adam", loss="mse")
seconds = []
class Clock(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()
    def on_epoch_end(self, epoch, logs=None):
        seconds.append(time.perf_counter() - self.start)
model.fit(x, x, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[Clock()])
print(json.dumps(seconds))
"""


def epoch_seconds(backend: str, network: str, images: int, epochs: int) -> list[float]:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", WORKER, str(images), str(epochs), str(BATCH_SIZE), network],
                            env=env, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=3, help="the first one (compilation) is not counted")
    args = parser.parse_args()
    print(f"{args.images} images per epoch, batch {BATCH_SIZE}, {os.cpu_count()} CPU cores; "
          f"seconds per epoch after the first (mean of {args.epochs - 1})")
    print(f"{'network':20s} {'tensorflow':>11s} {'jax':>8s}")
    for network in NETWORKS:
        times = {backend: epoch_seconds(backend, network, args.images, args.epochs)[1:]
                 for backend in ("tensorflow", "jax")}
        print(f"{network:20s} " + " ".join(f"{sum(t) / len(t):{w}.2f}" for t, w in
                                            zip(times.values(), (11, 8))), flush=True)


if __name__ == "__main__":
    main()
