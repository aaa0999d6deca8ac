"""Benchmark of `keraslab toptag generate`: whole pipeline against bare Pythia, and 1 vs 2 workers.

    .venv/bin/python benchmarks/jet_generation.py [--jets 4000] [--chunk-jets 1000]

1. Chunk by chunk, alternating so that a changing machine load hits both
   alike: the pipeline's work on one chunk (Pythia + detector model + FastJet
   + truth matching + images + N-subjettiness), then bare Pythia on the same
   events (same seeds, same number of events per class, Pythia init
   included, pythia.next() and nothing else).
2. The whole command (chunk files, manifest, HDF5 assembly included) with 1
   and with 2 workers.

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

from keraslab.toptag.events import make_pythia
from keraslab.toptag.generation import ChunkSpec, GenerationSettings, generate, make_chunk, plan_chunks


def timed(function, *args, **kwargs) -> float:
    start = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - start


def bare_pythia(spec: ChunkSpec, events: np.ndarray) -> dict[int, float]:
    """Seconds bare Pythia takes for a chunk's signal (1) and QCD (0) events, init included."""
    seconds = {}
    for label, n_events in ((1, events[0]), (0, events[1])):
        start = time.perf_counter()
        pythia = make_pythia(label, spec.pythia_seed(label))
        for _ in range(int(n_events)):
            pythia.next()
        seconds[label] = time.perf_counter() - start
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jets", type=int, default=4000)
    parser.add_argument("--chunk-jets", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=11)
    options = parser.parse_args()
    # one sample only, so that the chunks are equal and split evenly between 2 workers
    settings = GenerationSettings(jets=options.jets, seed=options.seed, split=(1.0, 0.0, 0.0), chunk_jets=options.chunk_jets)
    load_before = os.getloadavg()[0]
    pipeline = 0.0
    bare = {0: 0.0, 1: 0.0}
    events = np.zeros(2, int)
    for spec in plan_chunks(settings):
        start = time.perf_counter()
        chunk_events = make_chunk(spec)["events"]
        pipeline += time.perf_counter() - start
        for label, seconds in bare_pythia(spec, chunk_events).items():
            bare[label] += seconds
        events += chunk_events
    bare_total = sum(bare.values())
    with tempfile.TemporaryDirectory() as scratch:
        one = timed(generate, Path(scratch) / "one", settings, workers=1, progress=False)
        two = timed(generate, Path(scratch) / "two", settings, workers=2, progress=False)
    load_after = os.getloadavg()[0]
    rows = [
        ("jets (half top, half QCD)", f"{settings.jets}", ""),
        ("Pythia events used: t tbar / QCD", f"{events[0]} / {events[1]}",
         f"{settings.jets / 2 / events[0]:.1%} / {settings.jets / 2 / events[1]:.1%} kept"),
        ("bare Pythia events/s: t tbar / QCD", f"{events[0] / bare[1]:.0f} / {events[1] / bare[0]:.0f}", "init included"),
        ("bare-Pythia-limited jets/s (1 core)", f"{settings.jets / bare_total:.1f}", f"{bare_total:.1f} s"),
        ("pipeline jets/s, chunk work, 1 core", f"{settings.jets / pipeline:.1f}", f"{pipeline:.1f} s, alternating with bare"),
        ("pipeline / bare-Pythia rate", f"{bare_total / pipeline:.2f}", "target >= 0.70"),
        ("whole command jets/s, 1 worker", f"{settings.jets / one:.1f}", f"{one:.1f} s, files included"),
        ("whole command / bare-Pythia rate", f"{bare_total / one:.2f}", "timed at another moment"),
        ("whole command jets/s, 2 workers (per worker)", f"{settings.jets / two:.1f} ({settings.jets / two / 2:.1f})", f"{two:.1f} s"),
        ("speed-up 1 -> 2 workers", f"{one / two:.2f}", "target >= 1.80"),
        ("CPU cores / load average before, after", f"{os.cpu_count()} / {load_before:.1f}, {load_after:.1f}", "shared machine?"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measurement':<{width}}  {'value':>22}  note")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>22}  {note}")


if __name__ == "__main__":
    main()
