"""Benchmark: the slides' day-one scripts against ``keraslab run`` (prints a table).

The slides' three scripts (``benchmarks/slides/*.py``: exactly as on the slides, Keras 3
renames only, TensorFlow backend) and keraslab's runs of the same networks at the same
hyperparameters run alternately, each in a fresh process:
slides, keraslab, slides, keraslab, ... The fit time is the time inside ``model.fit``
(for the slides' scripts measured by wrapping ``keras.Model.fit``, the scripts
untouched). The table shows medians, the speed-up (slides / keraslab) and the final
metrics. ``keraslab run cnn`` is measured in the same rounds against the slides'
5-epoch MLP fit (target: test accuracy >= 0.93 within 2x that fit time).

    .venv/bin/python benchmarks/seed_vs_keraslab.py [--repeats 3] [--data-dir ../shared/data/fashion-mnist]

Fashion-MNIST comes from ``--data-dir`` (default: the class mirror ``../shared/data/fashion-mnist``,
whose test split is NOT the official one: its accuracies are comparable in distribution only).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# part: (slides script, keraslab command options, metric compared, target speed-up)
CONTENDERS = {
    "regression": ("regression.py", [], "loss"),
    "classification": ("classification.py", [], "val_accuracy"),
    "fashion-mnist": ("fashion_mnist.py", [], "test_accuracy"),
}
SPEEDUP_TARGET = 2.5
CNN_TARGETS = {"test_accuracy": 0.93, "fit_ratio_to_slides_mlp": 2.0}


def harness(script: str) -> None:
    """Run one slides' script unchanged, timing ``model.fit``; print the result as JSON."""
    os.environ["KERAS_BACKEND"] = "tensorflow"  # as on the slides
    import runpy

    import keras

    record: dict = {}
    fit, evaluate = keras.Model.fit, keras.Model.evaluate
    inside_fit = False

    def timed_fit(self, *args, **kwargs):
        nonlocal inside_fit
        inside_fit = True
        start = time.perf_counter()
        try:
            history = fit(self, *args, **kwargs)
        finally:
            inside_fit = False
        record["fit_seconds"] = time.perf_counter() - start
        record.update({key: values[-1] for key, values in history.history.items()})
        return history

    def recorded_evaluate(self, *args, **kwargs):
        result = evaluate(self, *args, **kwargs)
        if not inside_fit:  # fit's own validation calls evaluate too
            record["test_loss"], record["test_accuracy"] = result
        return result

    keras.Model.fit, keras.Model.evaluate = timed_fit, recorded_evaluate
    runpy.run_path(script, run_name="__main__")
    print("BENCHMARK-RESULT " + json.dumps(record))


def run_slides(script: str, keras_home: Path) -> dict:
    env = {**os.environ, "KERAS_HOME": str(keras_home), "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("KERAS_BACKEND", None)
    done = subprocess.run([sys.executable, __file__, "--harness", str(HERE / "slides" / script)],
                          env=env, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCHMARK-RESULT ")]
    if done.returncode != 0 or not lines:
        sys.exit(f"the slides' {script} failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1].split(" ", 1)[1])


def run_keraslab(part: str, out: Path, data_dir: Path, extra: list[str]) -> dict:
    command = [sys.executable, "-m", "keraslab.cli", "run", part, "--out", str(out), *extra]
    if part in ("fashion-mnist", "cnn"):
        command += ["--data-dir", str(data_dir)]
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}  # keraslab's own choice
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"keraslab run {part} failed:\n{done.stderr[-3000:]}")
    return json.loads((out / "metrics.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="rounds of alternating runs (default 3)")
    parser.add_argument("--data-dir", type=Path, default=HERE.parent.parent / "shared" / "data" / "fashion-mnist")
    parser.add_argument("--parts", default="regression,classification,fashion-mnist,cnn")
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    parser.add_argument("--harness", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.harness:
        return harness(args.harness)
    parts = args.parts.split(",")
    data_dir = args.data_dir.resolve()
    if not data_dir.is_dir():
        sys.exit(f"error: no Fashion-MNIST folder at {data_dir}; pass --data-dir")

    work = Path(tempfile.mkdtemp(prefix="keraslab-bench-"))
    keras_home = work / "keras-home"  # the slides' loader reads the same files, offline
    (keras_home / "datasets").mkdir(parents=True)
    (keras_home / "datasets" / "fashion-mnist").symlink_to(data_dir)
    results: dict[str, dict[str, list[dict]]] = {}
    load = [os.getloadavg()[0]]
    for repeat in range(args.repeats):
        for part in parts:
            if part == "cnn":
                runs = [("keraslab", lambda: run_keraslab("cnn", work / f"cnn-{repeat}", data_dir, []))]
            else:
                script, extra, _ = CONTENDERS[part]
                runs = [("slides", lambda: run_slides(script, keras_home)),
                        ("keraslab", lambda: run_keraslab(part, work / f"{part}-{repeat}", data_dir, extra))]
            for who, run in runs:
                result = run()
                results.setdefault(part, {}).setdefault(who, []).append(result)
                print(f"round {repeat + 1}/{args.repeats} {part:15s} {who:9s} fit {result['fit_seconds']:7.2f} s  "
                      f"(load average {os.getloadavg()[0]:.1f})", flush=True)
                load.append(os.getloadavg()[0])

    def median(part, who, key):
        values = [r[key] for r in results[part][who] if key in r]
        return statistics.median(values) if values else float("nan")

    print(f"\nmedians of {args.repeats} alternating rounds; load average during the runs "
          f"{min(load):.1f} to {max(load):.1f} on {os.cpu_count()} CPUs; Fashion-MNIST from {data_dir}")
    print(f"{'part':16s}{'slides fit s':>13s}{'keraslab fit s':>15s}{'speed-up':>10s}   {'metric':14s}"
          f"{'slides':>9s}{'keraslab':>10s}  backend   target")
    for part in parts:
        if part == "cnn":
            continue
        _, _, metric = CONTENDERS[part]
        slides, ours = median(part, "slides", "fit_seconds"), median(part, "keraslab", "fit_seconds")
        speedup = slides / ours
        print(f"{part:16s}{slides:13.2f}{ours:15.2f}{speedup:9.2f}x   {metric:14s}{median(part, 'slides', metric):9.4f}"
              f"{median(part, 'keraslab', metric):10.4f}  {results[part]['keraslab'][0]['backend']:9s} "
              f"{'met' if speedup >= SPEEDUP_TARGET else 'MISSED'} (>= {SPEEDUP_TARGET}x)")
    if "cnn" in parts and "fashion-mnist" in parts:
        cnn_fit, mlp_fit = median("cnn", "keraslab", "fit_seconds"), median("fashion-mnist", "slides", "fit_seconds")
        accuracy = median("cnn", "keraslab", "test_accuracy")
        ratio = cnn_fit / mlp_fit
        met = accuracy >= CNN_TARGETS["test_accuracy"] and ratio <= CNN_TARGETS["fit_ratio_to_slides_mlp"]
        print(f"{'cnn (keraslab)':16s}{'':13s}{cnn_fit:15.2f}{'':10s}   {'test_accuracy':14s}{'':9s}{accuracy:10.4f}  "
              f"{results['cnn']['keraslab'][0]['backend']:9s} {'met' if met else 'MISSED'}: fit = {ratio:.2f}x the slides' "
              f"MLP fit (<= 2x), accuracy >= 0.93")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "load_average": load}, indent=2))


if __name__ == "__main__":
    main()
