"""Benchmark of `keraslab toptag generate`: whole pipeline against bare Pythia, and 1 vs 2 workers.

    .venv/bin/python benchmarks/jet_generation.py [--jets 4000] [--chunk-jets 1000]

1. The pipeline (Pythia + detector model + FastJet + truth matching + images +
   N-subjettiness + chunk files + HDF5 assembly) with 1 worker.
2. Bare Pythia: the same events (same seeds, same number of events per chunk
   and class, Pythia init included), with pythia.next() and nothing else.
3. The pipeline again with 2 workers.

Prints a table: jets/s per worker, the ratio pipeline / bare-Pythia-limited
rate (target >= 0.7) and the speed-up from 1 to 2 workers (target >= 1.8).
The load average is printed too: on a shared machine the numbers are only as
good as the idle cores.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from keraslab.toptag.generation import GenerationSettings, _make_pythia, generate, plan_chunks


def timed(function, *args, **kwargs) -> float:
    start = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - start


def bare_pythia(settings: GenerationSettings, events: dict[str, np.ndarray]) -> tuple[float, dict[int, float]]:
    """Seconds to generate the pipeline's events with bare Pythia, and events/s per class."""
    seconds = {0: 0.0, 1: 0.0}
    counts = {0: 0, 1: 0}
    for spec in plan_chunks(settings):
        for label, n_events in ((1, events[spec.name][0]), (0, events[spec.name][1])):
            start = time.perf_counter()
            pythia = _make_pythia(label, spec.pythia_seed(label))
            for _ in range(int(n_events)):
                pythia.next()
            seconds[label] += time.perf_counter() - start
            counts[label] += int(n_events)
    return sum(seconds.values()), {label: counts[label] / seconds[label] for label in (0, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jets", type=int, default=4000)
    parser.add_argument("--chunk-jets", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=11)
    options = parser.parse_args()
    # one sample only, so that the chunks are equal and split evenly between 2 workers
    settings = GenerationSettings(jets=options.jets, seed=options.seed, split=(1.0, 0.0, 0.0), chunk_jets=options.chunk_jets)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as scratch:
        one = timed(generate, Path(scratch) / "one", settings, workers=1, progress=False)
        events = {}
        for spec in plan_chunks(settings):
            with np.load(Path(scratch) / "one" / spec.file) as data:
                events[spec.name] = data["events"]
        bare, event_rates = bare_pythia(settings, events)
        two = timed(generate, Path(scratch) / "two", settings, workers=2, progress=False)
    load_after = os.getloadavg()[0]
    n_signal_events = sum(e[0] for e in events.values())
    n_qcd_events = sum(e[1] for e in events.values())
    rows = [
        ("jets (half top, half QCD)", f"{settings.jets}", ""),
        ("Pythia events used: t tbar / QCD", f"{n_signal_events} / {n_qcd_events}",
         f"{settings.jets / 2 / n_signal_events:.1%} / {settings.jets / 2 / n_qcd_events:.1%} kept"),
        ("bare Pythia events/s: t tbar / QCD", f"{event_rates[1]:.0f} / {event_rates[0]:.0f}", "init included"),
        ("bare-Pythia-limited jets/s (1 core)", f"{settings.jets / bare:.1f}", f"{bare:.1f} s"),
        ("pipeline jets/s, 1 worker", f"{settings.jets / one:.1f}", f"{one:.1f} s"),
        ("pipeline / bare-Pythia rate", f"{bare / one:.2f}", "target >= 0.70"),
        ("pipeline jets/s, 2 workers (per worker)", f"{settings.jets / two:.1f} ({settings.jets / two / 2:.1f})", f"{two:.1f} s"),
        ("speed-up 1 -> 2 workers", f"{one / two:.2f}", "target >= 1.80"),
        ("CPU cores / load average before, after", f"{os.cpu_count()} / {load_before:.1f}, {load_after:.1f}", "shared machine?"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measurement':<{width}}  {'value':>22}  note")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>22}  {note}")


if __name__ == "__main__":
    main()
