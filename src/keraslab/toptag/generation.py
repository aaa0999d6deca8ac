"""Generate top-quark and QCD jets in chunks: the chunks, the manifest, the lock, the local and Dask runners.

The physics (Pythia, the detector model, FastJet, truth matching) is in
keraslab.toptag.events; this module decides who generates which jets, and keeps
the folder consistent.

Work is cut into chunks (one per ``chunk_jets`` jets of one sample), each
with its own Pythia seed derived from ``--seed``, the sample and the chunk
index, so a chunk is the same whoever generates it and whenever. Chunks go
to local worker processes or to a Dask cluster; the main process writes each
one atomically and records its SHA-256 in manifest.json, so a rerun skips
finished chunks and regenerates missing or corrupt ones. Finally the chunks
of each sample are concatenated, in order, into the sample's files.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import shutil
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from keraslab.errors import UserError, needs_extra
from keraslab.run_folder import atomic_write_bytes
from keraslab.toptag import dataset as ds
from keraslab.toptag import events

FORMAT = "keraslab-jets"
FORMAT_VERSION = 1
PYTHIA_SEED_MAX = 900_000_000  # Random:seed accepts 0 .. 900 000 000
DEFAULT_SPLIT = (0.6, 0.15, 0.15, 0.1)  # train, val, test, challenge


@dataclass(frozen=True)
class GenerationSettings:
    """What defines a jets folder; a rerun must use the same settings."""

    jets: int
    seed: int = 1
    split: tuple[float, ...] = DEFAULT_SPLIT
    chunk_jets: int = 1000

    def __post_init__(self) -> None:
        if self.jets <= 0:
            raise UserError(f"--jets must be a positive number of jets, got {self.jets}")
        if self.chunk_jets < 2:
            raise UserError(f"--chunk-jets must be at least 2, got {self.chunk_jets}")
        if not 0 <= self.seed <= 2**63 - 1:
            raise UserError(f"--seed must be a non-negative integer, got {self.seed}")
        if len(self.split) not in (3, 4) or min(self.split) < 0 or not math.isclose(sum(self.split), 1.0, abs_tol=1e-6):
            raise UserError(
                f"--split must be 3 or 4 non-negative fractions (train,val,test[,challenge]) summing to 1, "
                f"got {','.join(map(str, self.split))}"
            )
        too_small = [s for s, n in self.sample_sizes().items() if n < 2 and self.fraction(s) > 0]
        if too_small:
            raise UserError(f"--jets {self.jets} leaves fewer than 2 jets for {', '.join(too_small)}: ask for more jets")

    def fraction(self, sample: str) -> float:
        fractions = (*self.split, 0.0)[:4]
        return fractions[ds.ALL_SAMPLES.index(sample)]

    def sample_sizes(self) -> dict[str, int]:
        """Jets per sample, summing exactly to ``jets`` (largest remainders)."""
        exact = [self.jets * self.fraction(s) for s in ds.ALL_SAMPLES]
        sizes = [int(x) for x in exact]
        for i in sorted(range(len(exact)), key=lambda i: exact[i] - sizes[i], reverse=True)[: self.jets - sum(sizes)]:
            sizes[i] += 1
        return dict(zip(ds.ALL_SAMPLES, sizes))

    def record(self) -> dict:
        """The settings as stored in manifest.json, with the physics they imply."""
        return {**asdict(self), "split": list(self.split), **events.physics_record()}


@dataclass(frozen=True)
class ChunkSpec:
    """One unit of work: ``jets`` jets (half signal) of one sample."""

    sample: str
    index: int
    jets: int
    seed: int  # the run's --seed

    @property
    def name(self) -> str:
        return f"{self.sample}-{self.index:05d}"

    @property
    def file(self) -> str:
        return f"chunks/{self.name}.npz"

    def _entropy(self, *stream: int) -> list[int]:
        return [self.seed, ds.ALL_SAMPLES.index(self.sample), self.index, *stream]

    def pythia_seed(self, label: int) -> int:
        """Pythia's Random:seed for this chunk's signal (1) or QCD (0) events, 1 .. 900 000 000."""
        return int(np.random.SeedSequence(self._entropy(label, 0)).generate_state(1)[0]) % PYTHIA_SEED_MAX + 1

    def rng(self, stream: int) -> np.random.Generator:
        """Independent NumPy generators: 0 and 1 for the detector model of QCD and signal, 2 to shuffle."""
        return np.random.default_rng(np.random.SeedSequence(self._entropy(stream, 1)))


def plan_chunks(settings: GenerationSettings) -> list[ChunkSpec]:
    """All chunks of a run, in the order their jets appear in the sample files."""
    chunks = []
    for sample, size in settings.sample_sizes().items():
        for index, start in enumerate(range(0, size, settings.chunk_jets)):
            chunks.append(ChunkSpec(sample, index, min(settings.chunk_jets, size - start), settings.seed))
    return chunks


# ---------------------------------------------------------------- one chunk (runs in workers)


def make_chunk(spec: ChunkSpec, on_jets: Callable[[int], object] | None = None) -> dict[str, np.ndarray]:
    """Generate one chunk: half signal, half QCD, shuffled, with images and features.

    Returns arrays constituents (n, 200, 4), truth (n, 4), labels (n,) int8,
    images (n, 40, 40), features (n, 9) in FEATURE_COLUMNS order, and events
    (the Pythia events used for signal and for QCD).
    """
    from keraslab.toptag.images import jet_images
    from keraslab.toptag.substructure import jet_features

    n_signal = spec.jets // 2
    signal = events.generate_jets(1, n_signal, spec.pythia_seed(1), spec.rng(1), on_jets)
    background = events.generate_jets(0, spec.jets - n_signal, spec.pythia_seed(0), spec.rng(0), on_jets)
    order = spec.rng(2).permutation(spec.jets)
    constituents = np.concatenate([signal[0], background[0]])[order]
    features = jet_features(constituents)
    return {
        "constituents": constituents,
        "truth": np.concatenate([signal[1], background[1]])[order],
        "labels": np.repeat(np.array([1, 0], np.int8), [n_signal, spec.jets - n_signal])[order],
        "images": jet_images(constituents),
        "features": np.stack([features[c] for c in ds.FEATURE_COLUMNS], axis=1).astype(np.float32),
        "events": np.array([signal[2], background[2]]),
    }


# ---------------------------------------------------------------- scheduling


def _die_with_parent() -> None:
    """Worker initializer: on Linux, end this worker when the main process dies (even by SIGKILL).

    Otherwise killed runs leave idle orphans behind; the next run makes their chunks again anyway.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _run_local(
    todo: list[ChunkSpec], workers: int, on_jets: Callable[[int], object]
) -> Iterator[tuple[ChunkSpec, dict]]:
    """Chunks as they finish; in this process (workers == 1) on_jets reports every Pythia batch."""
    if workers == 1:
        for spec in todo:
            yield spec, make_chunk(spec, on_jets)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn: Pythia and FastJet hold C++ state that must not be forked mid-use
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=spawn, initializer=_die_with_parent) as pool:
        futures = {pool.submit(make_chunk, spec): spec for spec in todo}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _connect_dask(address: str):
    with needs_extra("generate"):
        from distributed import Client

    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as err:
        raise UserError(f"cannot reach the Dask scheduler at {address} ({err}); start one or drop --scheduler") from None


def _run_dask(todo: list[ChunkSpec], client) -> Iterator[tuple[ChunkSpec, dict]]:
    from distributed import as_completed

    futures = client.map(make_chunk, todo, key=[f"keraslab-jets-{s.seed}-{s.name}-{s.jets}" for s in todo])
    by_key = {f.key: spec for f, spec in zip(futures, todo)}
    for future, result in as_completed(futures, with_results=True):
        yield by_key[future.key], result


# ---------------------------------------------------------------- the folder


def _chunk_done(directory: Path, manifest: dict, spec: ChunkSpec) -> bool:
    entry = manifest["chunks"].get(spec.name)
    path = directory / spec.file
    return bool(entry) and entry["jets"] == spec.jets and path.is_file() and ds.sha256(path) == entry["sha256"]


def _write_chunk(directory: Path, spec: ChunkSpec, data: dict[str, np.ndarray]) -> str:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **data)
    atomic_write_bytes(directory / spec.file, buffer.getvalue())
    return ds.sha256(directory / spec.file)


def _our_paths(directory: Path) -> list[Path]:
    """Everything generate writes, for --overwrite."""
    names = [ds.MANIFEST, "chunks", "hidden"]
    for sample in ds.ALL_SAMPLES:
        names += [ds.sample_path("", sample, kind).name for kind in ("constituents", "images", "features")]
    return [directory / n for n in names]


@contextlib.contextmanager
def _exclusive(directory: Path) -> Iterator[None]:
    """Refuse a second generate on the same folder while one runs (an advisory lock)."""
    import fcntl

    with open(directory / ".generate.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"another `keraslab toptag generate` is writing {directory}; wait for it or stop it") from None
        yield


def _make_directory(directory: Path) -> None:
    """Create the output folder, refusing files, unwritable places and folders of other things."""
    if directory.exists() and not directory.is_dir():
        raise UserError(f"--out {directory} is a file; give a folder")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create {directory} ({err.strerror}); choose a folder you can write to") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UserError(f"{directory} is not writable; choose a folder you can write to")
    if not (directory / ds.MANIFEST).exists() and any(p for p in directory.iterdir() if not p.name.startswith(".")):
        raise UserError(f"{directory} is not empty and holds no keraslab jets (no {ds.MANIFEST}); choose a new or empty folder")


def _prepare(directory: Path, settings: GenerationSettings, overwrite: bool) -> dict:
    """The manifest to continue (new, resumed, or new after --overwrite removed our old files)."""
    record = settings.record()
    manifest = ds.read_manifest(directory)
    if manifest is not None and (manifest.get("format") != FORMAT or manifest.get("settings") != record):
        if not overwrite:
            old = manifest.get("settings", {})
            changed = [k for k in record if old.get(k) != record[k]] or ["format"]
            raise UserError(
                f"{directory} holds jets made with other settings ({', '.join(changed)} differ); "
                "use another --out, or add --overwrite to replace them"
            )
        for path in _our_paths(directory):
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        manifest = None
    if manifest is None:
        manifest = {"format": FORMAT, "version": FORMAT_VERSION, "settings": record, "chunks": {}, "files": {}, "complete": False}
        ds.write_manifest(directory, manifest)
    (directory / "chunks").mkdir(exist_ok=True)
    return manifest


def _load_chunk(directory: Path, spec: ChunkSpec) -> dict[str, np.ndarray]:
    with np.load(directory / spec.file) as data:
        return {k: data[k] for k in data.files}


def _assemble(directory: Path, chunks: list[ChunkSpec], manifest: dict) -> None:
    """Concatenate each sample's chunks into its three files and record their checksums."""
    for sample in ds.ALL_SAMPLES:
        specs = [c for c in chunks if c.sample == sample]
        if not specs:
            continue
        paths = {kind: ds.sample_path(directory, sample, kind) for kind in ("constituents", "images", "features")}
        hidden = sample == ds.CHALLENGE
        labels = []
        with ds.AtomicStore(paths["constituents"]) as jets, ds.AtomicStore(paths["images"]) as images, ds.AtomicStore(
            paths["features"]
        ) as features:
            for spec in specs:
                data = _load_chunk(directory, spec)
                shown = None if hidden else data["labels"]
                labels.append(data["labels"])
                jets.append(ds.constituents_frame(data["constituents"], data["truth"], shown, ds.TTV_CODE.get(sample)))
                feature_values = dict(zip(ds.FEATURE_COLUMNS, data["features"].T))
                feature_values["n_constituents"] = feature_values["n_constituents"].astype(np.int16)
                images.append(ds.images_frame(data["images"], feature_values["mass"], shown))
                features.append(ds.features_frame(feature_values, shown))
        written = list(paths.values())
        if hidden:
            (directory / ds.HIDDEN_LABELS).parent.mkdir(exist_ok=True)
            buffer = io.BytesIO()
            np.save(buffer, np.concatenate(labels).astype(np.int8))
            atomic_write_bytes(directory / ds.HIDDEN_LABELS, buffer.getvalue())
            written.append(directory / ds.HIDDEN_LABELS)
        for path in written:
            name = path.relative_to(directory).as_posix()
            manifest["files"][name] = {"sha256": ds.sha256(path), "jets": sum(s.jets for s in specs)}
        ds.write_manifest(directory, manifest)


def generate(
    directory: str | Path,
    settings: GenerationSettings,
    workers: int = 1,
    scheduler: str | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> dict:
    """Generate (or finish) a jets folder and return its manifest.

    workers local processes (1: in this process) or, with scheduler (a Dask
    address such as tcp://host:8786), the workers of that cluster, which must
    have keraslab installed. The result does not depend on either.
    """
    from tqdm.auto import tqdm

    if workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}")
    directory = Path(directory)
    _make_directory(directory)
    with contextlib.ExitStack() as stack:
        stack.enter_context(_exclusive(directory))
        manifest = _prepare(directory, settings, overwrite)
        chunks = plan_chunks(settings)
        todo = [c for c in chunks if not _chunk_done(directory, manifest, c)]
        if todo:
            manifest["complete"] = False
            ds.write_manifest(directory, manifest)
        client = stack.enter_context(_connect_dask(scheduler)) if scheduler and todo else None
        done = settings.jets - sum(c.jets for c in todo)
        bar = stack.enter_context(
            tqdm(total=settings.jets, initial=done, unit="jet", desc="jets", disable=not progress, smoothing=0.1)
        )
        counted = {"jets": 0}  # jets of the current chunk already shown by per-batch updates

        def on_jets(n: int) -> None:
            counted["jets"] += n
            bar.update(n)

        runner: Iterable = _run_dask(todo, client) if client else _run_local(todo, workers, on_jets)
        for spec, data in runner:
            manifest["chunks"][spec.name] = {"file": spec.file, "jets": spec.jets, "sha256": _write_chunk(directory, spec, data)}
            ds.write_manifest(directory, manifest)
            bar.update(spec.jets - counted["jets"])
            counted["jets"] = 0
        bar.close()
        if todo or not manifest.get("complete") or ds.verify_checksums(directory):
            _assemble(directory, chunks, manifest)
        manifest["complete"] = True
        ds.write_manifest(directory, manifest)
    return manifest
