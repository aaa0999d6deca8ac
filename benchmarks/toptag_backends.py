"""Seconds per training epoch of each day-two network on TensorFlow and on JAX.

The backend each network prefers on a CPU (keraslab.toptag.catalog) comes from this
table. Each (network, backend) pair runs in its own process, because Keras picks its
backend once per process. Usage::

    python benchmarks/toptag_backends.py --data DIR [--jets 3000] [--models toptag-cnn,toptag-pfn]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

ONE_RUN = """
import json, sys, time
from keraslab.toptag import catalog, inputs, networks
name, data, jets = sys.argv[1], sys.argv[2], int(sys.argv[3])
spec = catalog.spec(name)
x, y = inputs.load_inputs(spec.inputs, data, "train", n_jets=jets, n_constituents=spec.n_constituents)
model = networks.build(name)
model.compile(optimizer="adam", loss="categorical_crossentropy")
targets = inputs.one_hot(y)
model.fit(x[:256], targets[:256], epochs=1, batch_size=spec.batch_size, verbose=0)  # compile outside the timing
start = time.perf_counter()
model.fit(x, targets, epochs=1, batch_size=spec.batch_size, verbose=0)
print(json.dumps({"seconds": time.perf_counter() - start, "jets": len(x)}))
"""


def main() -> None:
    from keraslab.toptag.catalog import MODELS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="jets folder (keraslab toptag generate)")
    parser.add_argument("--jets", type=int, default=3000, help="training jets per timed epoch")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated networks")
    args = parser.parse_args()

    print(f"{'network':22s} {'tensorflow s/epoch':>18s} {'jax s/epoch':>12s}  faster   catalog")
    for name in args.models.split(","):
        seconds = {}
        for backend in ("tensorflow", "jax"):
            env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
            result = subprocess.run([sys.executable, "-c", ONE_RUN, name, args.data, str(args.jets)],
                                    capture_output=True, text=True, env=env, check=True)
            seconds[backend] = json.loads(result.stdout.strip().splitlines()[-1])["seconds"]
        faster = min(seconds, key=seconds.get)
        print(f"{name:22s} {seconds['tensorflow']:18.1f} {seconds['jax']:12.1f}  {faster:10s} {MODELS[name].backend}")


if __name__ == "__main__":
    main()
