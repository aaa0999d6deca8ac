"""All back-up demonstrations in one run: figures and ``metrics.json``.

``run_backup(out, small=False, overwrite=False)`` runs every demonstration,
saves each figure as ``<name>.png`` in ``out`` and writes ``out/metrics.json``:

* every checked quantity under its own name at the top level
  (``linear_collapse_max_abs_err``, ``logic_gates_exact``, ...);
* ``claims``: for each, the value, ``passed`` and the statement with its tolerance;
* ``extras``: numbers worth reading that are not claims (the corrected 2^x
  weights, the Adam error with exact hyper-parameters, ...);
* ``figures``, ``backend``, ``keras_version``, ``all_passed``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import keras

from keraslab import training
from keraslab.errors import UserError
from keraslab.theory import activations, adam, backprop, learning_rate, linear_collapse, logic_gates
from keraslab.theory import universal_approximation
from keraslab.theory.demonstration import Demonstration

# The learning-rate scan is the only slow part: SMALL shrinks it for CI.
SMALL_SCAN = {"n_samples": 2000, "epochs": 5}
FULL_SCAN = {"n_samples": 10_000, "epochs": 20}


def demonstrations(small: bool = False) -> list[Callable[[], Demonstration]]:
    """The back-up pages in the slides' order, each a function returning its Demonstration."""
    return [
        activations.demonstrate,
        linear_collapse.demonstrate,
        logic_gates.demonstrate,
        universal_approximation.demonstrate,
        backprop.demonstrate,
        adam.demonstrate,
        partial(learning_rate.demonstrate, **(SMALL_SCAN if small else FULL_SCAN)),
    ]


def report(results: list[Demonstration]) -> dict:
    """The metrics.json content for finished demonstrations."""
    claims = {claim.metric: {"value": claim.value, "passed": claim.passed, "statement": claim.statement,
                             "demonstration": result.name}
              for result in results for claim in result.claims}
    return {
        **{metric: entry["value"] for metric, entry in claims.items()},
        "all_passed": all(entry["passed"] for entry in claims.values()),
        "claims": claims,
        "extras": {key: value for result in results for key, value in result.extras.items()},
        "figures": {result.name: f"{result.name}.png" for result in results},
        "backend": keras.backend.backend(),
        "keras_version": keras.__version__,
    }


def run_backup(out: Path | str, small: bool = False, overwrite: bool = False) -> dict:
    """Run every demonstration, write the figures and metrics.json into ``out``; return the metrics.

    ``out`` follows keraslab's run-folder rules: an existing non-empty folder is
    refused unless ``overwrite`` (and then only if it holds a keraslab run).
    """
    out = Path(out)
    if not overwrite and out.is_dir() and any(out.iterdir()):  # say it without --resume, which backup has not
        raise UserError(f"{out} already holds files; pass --overwrite to replace a previous backup run, "
                        "or choose another --out")
    out = training.prepare_run_dir(out, overwrite=overwrite)
    results = []
    for demonstrate in demonstrations(small):
        start = time.perf_counter()
        result = demonstrate()
        result.figure.savefig(out / f"{result.name}.png", dpi=110)
        verdicts = ", ".join(f"{c.metric} = {c.value:.3g}" if isinstance(c.value, float) else f"{c.metric} = {c.value}"
                             for c in result.claims)
        status = "ok" if result.passed else "FAILED"
        print(f"[{status}] {result.title} ({time.perf_counter() - start:.1f} s): {verdicts}", flush=True)
        results.append(result)
    metrics = report(results)
    training.write_metrics(out, metrics)
    return metrics
