"""Generate top-quark and QCD jets with Pythia 8 and FastJet, in chunks.

Physics (as the reference dataset, with keraslab.toptag.detector for Delphes):
pp at 14 TeV, Pythia 8 default tune, no MPI, no pile-up; signal t tbar with
both W bosons decaying to quarks, background QCD 2 -> 2, both with
pTHatMin = 500 GeV; anti-kT R = 0.8 jets on energy-flow objects; the leading
jet must have 550 < pT < 650 GeV and |eta| < 2; a signal jet must contain the
top quark and its three decay quarks within Delta R < 0.8 of its axis.

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

from keraslab.errors import UserError
from keraslab.run_folder import atomic_write_bytes
from keraslab.toptag import dataset as ds

FORMAT = "keraslab-jets"
FORMAT_VERSION = 1
PYTHIA_SEED_MAX = 900_000_000  # Random:seed accepts 0 .. 900 000 000
DEFAULT_SPLIT = (0.6, 0.15, 0.15, 0.1)  # train, val, test, challenge

PYTHIA_COMMON = (
    "Beams:eCM = 14000.",
    "PhaseSpace:pTHatMin = 500.",
    "PartonLevel:MPI = off",
    "Print:quiet = on",
    "Next:numberCount = 0",
    "Next:numberShowEvent = 0",
    "Next:numberShowInfo = 0",
    "Next:numberShowProcess = 0",
    "Random:setSeed = on",
)
PYTHIA_PROCESS = {
    # hadronic W decays only: the reference's signal is hadronic tops, and
    # leptonic ones would be thrown away by the truth matching anyway
    1: ("Top:gg2ttbar = on", "Top:qqbar2ttbar = on", "24:onMode = off", "24:onIfAny = 1 2 3 4 5"),
    0: ("HardQCD:all = on",),
}
JET_R = 0.8
JET_PT_RANGE = (550.0, 650.0)  # GeV
JET_ABS_ETA_MAX = 2.0
MATCH_DELTA_R = 0.8
# jets kept per generated event (measured), only to size Pythia batches
_JETS_PER_EVENT = {1: 0.2, 0: 0.34}


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
        import fastjet
        import pythia8mc

        return {
            **asdict(self),
            "split": list(self.split),
            "pythia": {str(k): list(PYTHIA_COMMON + v) for k, v in PYTHIA_PROCESS.items()},
            "jet": {"R": JET_R, "pt_range": list(JET_PT_RANGE), "abs_eta_max": JET_ABS_ETA_MAX},
            "versions": {"pythia8mc": _version("pythia8mc", pythia8mc), "fastjet": _version("fastjet", fastjet)},
        }


def _version(name: str, module) -> str:
    from importlib.metadata import version

    return getattr(module, "__version__", None) or version(name)


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


def _make_pythia(label: int, seed: int):
    import pythia8mc

    pythia = pythia8mc.Pythia("", False)  # False: no banner
    for line in (*PYTHIA_COMMON, *PYTHIA_PROCESS[label], f"Random:seed = {seed}"):
        if not pythia.readString(line):
            raise RuntimeError(f"Pythia rejected setting {line!r}")
    if not pythia.init():
        raise RuntimeError("Pythia failed to initialise")
    return pythia


def _charge_lookup(pythia) -> Callable[[np.ndarray], np.ndarray]:
    """Electric charge of PDG ids, asking Pythia's particle data once per id."""
    known: dict[int, float] = {}

    def charge(ids: np.ndarray) -> np.ndarray:
        unique, inverse = np.unique(ids, return_inverse=True)
        values = np.array([known.setdefault(int(i), pythia.particleData.charge(int(i))) for i in unique])
        return values[inverse] if len(unique) else np.zeros(0)

    return charge


def _delta_r(eta1: float, phi1: float, eta2: np.ndarray, phi2: np.ndarray) -> np.ndarray:
    return np.hypot(eta1 - eta2, np.angle(np.exp(1j * (phi1 - phi2))))


def _daughters(d1: int, d2: int) -> list[int]:
    """Pythia's daughter convention: a range when d2 > d1, else d1 (and d2 if set and different)."""
    if d2 > d1:
        return list(range(d1, d2 + 1))
    return [d for d in dict.fromkeys((d1, d2)) if d > 0]


def _matched_top(record: dict[str, np.ndarray], jet_eta: float, jet_phi: float) -> np.ndarray | None:
    """The (E, px, py, pz) of a top whose decay quarks all lie within Delta R < 0.8 of the jet, or None."""
    ids, d1, d2 = record["id"], record["daughter1"], record["daughter2"]
    px, py, pz, e = record["px"], record["py"], record["pz"], record["e"]

    def last_copy(i: int) -> int:
        while True:
            children = _daughters(d1[i], d2[i])
            if len(children) != 1 or ids[children[0]] != ids[i]:
                return i
            i = children[0]

    for top in np.flatnonzero(np.abs(ids) == 6):
        children = _daughters(d1[top], d2[top])
        if not children or any(abs(ids[c]) == 6 for c in children):
            continue  # not the last copy before the decay
        w = [last_copy(c) for c in children if abs(ids[c]) == 24]
        partons = [c for c in children if abs(ids[c]) == 5]
        if len(w) != 1 or len(partons) != 1:
            continue
        partons += [c for c in _daughters(d1[w[0]], d2[w[0]]) if abs(ids[c]) <= 5]
        objects = np.array([top, *partons])
        pt = np.hypot(px[objects], py[objects])
        eta = np.arcsinh(pz[objects] / np.maximum(pt, 1e-12))
        phi = np.arctan2(py[objects], px[objects])
        if len(partons) == 3 and np.all(_delta_r(jet_eta, jet_phi, eta, phi) < MATCH_DELTA_R):
            return np.array([e[top], px[top], py[top], pz[top]])
    return None


def _jets_from_batch(events, label: int, charge, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Leading jets in the window (and truth-matched, for signal) of one Pythia batch.

    Returns constituents (n, 200, 4) float32 (E, px, py, pz) pT-ordered and
    zero-padded, and truth four-vectors (n, 4): the top for signal, zeros for QCD.
    """
    import awkward as ak
    import fastjet

    from keraslab.toptag.detector import Particles, reconstruct

    final = events.prt[events.prt.status > 0]
    counts = ak.to_numpy(ak.num(final.id))
    ids = ak.to_numpy(ak.flatten(final.id))
    momenta = {c: ak.to_numpy(ak.flatten(getattr(final.p, c))) for c in ("px", "py", "pz", "e")}
    particles = Particles(
        event=np.repeat(np.arange(len(counts)), counts), pdg_id=ids, charge=charge(ids), **momenta
    )
    flow = reconstruct(particles, rng)
    inputs = ak.unflatten(
        ak.zip({"px": flow.px, "py": flow.py, "pz": flow.pz, "E": flow.e}),
        np.bincount(flow.event, minlength=len(counts)),
    )
    sequence = fastjet.ClusterSequence(inputs, fastjet.JetDefinition(fastjet.antikt_algorithm, JET_R))
    min_pt = 0.5 * JET_PT_RANGE[0]  # only jets that could lead in the window matter
    jets = sequence.inclusive_jets(min_pt=min_pt)
    constituent_index = sequence.constituent_index(min_pt=min_pt)

    jet_pt = np.hypot(jets.px, jets.py)
    leading = ak.argmax(jet_pt, axis=1, keepdims=True)
    lead_px, lead_py, lead_pz = (ak.to_numpy(ak.fill_none(ak.firsts(jets[c][leading]), 0.0)) for c in ("px", "py", "pz"))
    lead_pt = np.hypot(lead_px, lead_py)
    lead_eta = np.arcsinh(np.divide(lead_pz, lead_pt, out=np.zeros_like(lead_pt), where=lead_pt > 0))
    lead_phi = np.arctan2(lead_py, lead_px)
    selected = (lead_pt > JET_PT_RANGE[0]) & (lead_pt < JET_PT_RANGE[1]) & (np.abs(lead_eta) < JET_ABS_ETA_MAX)

    truth = np.zeros((len(counts), 4))
    if label == 1:
        candidates = np.flatnonzero(selected)
        # one conversion for all candidates, then plain NumPy slices per event
        prt = events.prt[candidates]
        offsets = np.concatenate([[0], np.cumsum(ak.to_numpy(ak.num(prt.id)))])
        columns = {f: ak.to_numpy(ak.flatten(prt[f])) for f in ("id", "daughter1", "daughter2")}
        columns.update({c: ak.to_numpy(ak.flatten(prt.p[c])) for c in ("px", "py", "pz", "e")})
        for k, i in enumerate(candidates):
            record = {f: v[offsets[k] : offsets[k + 1]] for f, v in columns.items()}
            top = _matched_top(record, lead_eta[i], lead_phi[i])
            if top is None:
                selected[i] = False
            else:
                truth[i] = top

    chosen = np.flatnonzero(selected)
    constituents = inputs[chosen][ak.firsts(constituent_index[leading][chosen])]
    order = ak.argsort(np.hypot(constituents.px, constituents.py), axis=1, ascending=False)
    constituents = ak.pad_none(constituents[order], ds.N_CONSTITUENTS, axis=1, clip=True)
    four_vectors = np.stack(
        [ak.to_numpy(ak.fill_none(constituents[c], 0.0)) for c in ("E", "px", "py", "pz")], axis=-1
    ).reshape(len(chosen), ds.N_CONSTITUENTS, 4)
    return four_vectors.astype(np.float32), truth[chosen].astype(np.float32)


def generate_jets(
    label: int,
    n_jets: int,
    pythia_seed: int,
    rng: np.random.Generator,
    on_jets: Callable[[int], object] | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """n_jets signal (label 1) or QCD (label 0) jets; rng drives the detector model.

    on_jets(n), if given, is called with the number of new jets after each Pythia batch.

    Returns constituents (n, 200, 4), truth (n, 4) and the number of Pythia
    events it took.
    """
    from keraslab.toptag.substructure import silence_fastjet_banner

    silence_fastjet_banner()
    pythia = _make_pythia(label, pythia_seed)
    charge = _charge_lookup(pythia)
    found: list[tuple[np.ndarray, np.ndarray]] = []
    n_found = n_events = 0
    while n_found < n_jets:
        batch = min(1000, max(20, math.ceil((n_jets - n_found) / _JETS_PER_EVENT[label])))
        events = pythia.nextBatch(batch)
        constituents, truth = _jets_from_batch(events, label, charge, rng)
        found.append((constituents, truth))
        if on_jets is not None:
            on_jets(min(len(constituents), n_jets - n_found))
        n_found += len(constituents)
        n_events += len(events)
    constituents = np.concatenate([c for c, _ in found])[:n_jets]
    truth = np.concatenate([t for _, t in found])[:n_jets]
    return constituents, truth, n_events


def make_chunk(spec: ChunkSpec, on_jets: Callable[[int], object] | None = None) -> dict[str, np.ndarray]:
    """Generate one chunk: half signal, half QCD, shuffled, with images and features.

    Returns arrays constituents (n, 200, 4), truth (n, 4), labels (n,) int8,
    images (n, 40, 40), features (n, 9) in FEATURE_COLUMNS order, and events
    (the Pythia events used for signal and for QCD).
    """
    from keraslab.toptag.images import jet_images
    from keraslab.toptag.substructure import jet_features

    n_signal = spec.jets // 2
    signal = generate_jets(1, n_signal, spec.pythia_seed(1), spec.rng(1), on_jets)
    background = generate_jets(0, spec.jets - n_signal, spec.pythia_seed(0), spec.rng(0), on_jets)
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
