"""The top-tagging jets folder: reference-format files, images, features, manifest.

A jets folder (made by ``keraslab toptag generate`` or holding the official
Zenodo files) contains::

    DIR/train.h5  DIR/val.h5  DIR/test.h5     constituents, reference format
    DIR/{split}_images.h5                     img_0 .. img_1599, is_signal_new, mass
    DIR/{split}_features.h5                   mass, pt, eta, tau1..tau3, tau21, tau32,
                                              n_constituents, is_signal_new
    DIR/challenge.h5 (+ _images, _features)   the same without any truth column
    DIR/hidden/challenge_labels.npy           int8 0/1 labels of challenge.h5, in file order
    DIR/manifest.json                         settings, chunks and SHA-256 checksums

The reference format (Kasieczka, Plehn et al., SciPost Phys. 7, 014 (2019),
Zenodo record 2603256) is a pandas HDFStore with key ``"table"``: per jet the
leading 200 constituents' E, px, py, pz in GeV (columns E_0, PX_0, PY_0, PZ_0,
E_1, ..., PZ_199; pT-ordered, zero-padded), then truthE, truthPX, truthPY,
truthPZ, ttv, is_signal_new. Plain ``pandas.read_hdf(path, "table")`` reads
every file here.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from tables.exceptions import HDF5ExtError

from keraslab.errors import UserError
from keraslab.run_folder import atomic_write_bytes

HDF_KEY = "table"
N_CONSTITUENTS = 200
IMAGE_PIXELS = 40
LABEL_COLUMN = "is_signal_new"
SPLITS = ("train", "val", "test")
CHALLENGE = "challenge"
ALL_SAMPLES = (*SPLITS, CHALLENGE)
# ttv as in the reference files: 0 train, 1 test, 2 validation
TTV_CODE = {"train": 0, "test": 1, "val": 2}

CONSTITUENT_COLUMNS = [f"{c}_{i}" for i in range(N_CONSTITUENTS) for c in ("E", "PX", "PY", "PZ")]
TRUTH_COLUMNS = ["truthE", "truthPX", "truthPY", "truthPZ"]
REFERENCE_COLUMNS = [*CONSTITUENT_COLUMNS, *TRUTH_COLUMNS, "ttv", LABEL_COLUMN]
IMAGE_COLUMNS = [f"img_{i}" for i in range(IMAGE_PIXELS * IMAGE_PIXELS)]
FEATURE_COLUMNS = ["mass", "pt", "eta", "tau1", "tau2", "tau3", "tau21", "tau32", "n_constituents"]

MANIFEST = "manifest.json"
HIDDEN_LABELS = Path("hidden") / "challenge_labels.npy"
JETS_DIR_ENV = "KERASLAB_JETS_DIR"

LAYOUT_HINT = (
    "a jets folder holds train.h5, val.h5, test.h5 (reference format), {split}_images.h5 and "
    "{split}_features.h5; make one with `keraslab toptag generate --jets N --out DIR`"
)


def default_jets_dir() -> Path:
    """The jets folder used when none is given: $KERASLAB_JETS_DIR, else data/jets."""
    return Path(os.environ.get(JETS_DIR_ENV, "data/jets"))


def sample_path(directory: str | Path, sample: str, kind: str = "constituents") -> Path:
    """Path of one file of a jets folder.

    sample is train, val, test or challenge; kind is constituents (the
    reference-format file), images or features.
    """
    if kind not in ("constituents", "images", "features"):
        raise ValueError(f"unknown kind {kind!r}")
    suffix = "" if kind == "constituents" else f"_{kind}"
    return Path(directory) / f"{sample}{suffix}.h5"


# ---------------------------------------------------------------- reading


def _open_frame(path: str | Path, n_jets: int | None, required: list[str], what: str) -> pd.DataFrame:
    path = Path(path)
    if n_jets is not None and n_jets <= 0:
        raise UserError(f"n_jets must be positive, got {n_jets}")
    if not path.is_file():
        raise UserError(f"no {what} file {path}; {LAYOUT_HINT}")
    try:
        frame = pd.read_hdf(path, HDF_KEY, stop=n_jets)
    except (KeyError, OSError, ValueError, TypeError, HDF5ExtError) as err:
        raise UserError(
            f"cannot read {path} as a pandas HDFStore with key 'table' ({type(err).__name__}); "
            f"the file is corrupt or not a jets file: regenerate it ({LAYOUT_HINT})"
        ) from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        shown = ", ".join(missing[:4]) + (" ..." if len(missing) > 4 else "")
        raise UserError(f"{path} is not a {what} file: it lacks columns {shown}; {LAYOUT_HINT}")
    return frame


def _labels(frame: pd.DataFrame) -> np.ndarray | None:
    return frame[LABEL_COLUMN].to_numpy(dtype=np.int8) if LABEL_COLUMN in frame.columns else None


def read_constituents(path: str | Path, n_jets: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Read a reference-format file (ours or the official Zenodo one).

    Returns the constituents' four-vectors, float32 of shape (N, 200, 4) ordered
    (E, px, py, pz) in GeV, pT-ordered and zero-padded, and the labels
    (int8, 1 = top) or None for a file without truth (the challenge file).
    n_jets reads only the first n_jets rows.
    """
    frame = _open_frame(path, n_jets, CONSTITUENT_COLUMNS, "constituents (reference-format)")
    four_vectors = frame[CONSTITUENT_COLUMNS].to_numpy(dtype=np.float32).reshape(-1, N_CONSTITUENTS, 4)
    return four_vectors, _labels(frame)


def read_images(path: str | Path, n_jets: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Read a jet-image file: float32 images (N, 40, 40), unit sum, and labels or None.

    Rows of an image run along the jet's principal axis (see keraslab.toptag.images).
    """
    frame = _open_frame(path, n_jets, IMAGE_COLUMNS, "jet-images")
    images = frame[IMAGE_COLUMNS].to_numpy(dtype=np.float32).reshape(-1, IMAGE_PIXELS, IMAGE_PIXELS)
    return images, _labels(frame)


def read_features(path: str | Path, n_jets: int | None = None) -> pd.DataFrame:
    """Read a high-level-features file as a DataFrame.

    Columns: mass, pt (GeV), eta, tau1, tau2, tau3 (N-subjettiness, beta = 1,
    R0 = 0.8), tau21, tau32, n_constituents, and is_signal_new except in the
    challenge file.
    """
    return _open_frame(path, n_jets, FEATURE_COLUMNS, "jet-features")


def count_jets(path: str | Path) -> int:
    """Number of rows of an HDFStore file (fixed or table format) without reading it."""
    try:
        with pd.HDFStore(path, mode="r") as store:
            storer = store.get_storer(HDF_KEY)
            return int(storer.nrows if storer.format_type == "table" else storer.shape[0])
    except (KeyError, OSError, ValueError, TypeError, AttributeError, HDF5ExtError) as err:
        raise UserError(f"cannot read {path} as a pandas HDFStore with key 'table' ({type(err).__name__}); {LAYOUT_HINT}") from None


def iter_constituent_blocks(
    path: str | Path, block: int = 20_000
) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
    """Yield (frame, four_vectors (n, 200, 4)) blocks of a reference-format file, to bound memory."""
    total = count_jets(path)
    for start in range(0, total, block):
        frame = pd.read_hdf(path, HDF_KEY, start=start, stop=min(start + block, total))
        yield frame, frame[CONSTITUENT_COLUMNS].to_numpy(dtype=np.float32).reshape(-1, N_CONSTITUENTS, 4)


# ---------------------------------------------------------------- writing


def constituents_frame(
    four_vectors: np.ndarray,
    truth: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    ttv: int | None = None,
) -> pd.DataFrame:
    """A reference-format DataFrame; without labels, the truth-free challenge layout."""
    n = len(four_vectors)
    frame = pd.DataFrame(np.asarray(four_vectors, np.float32).reshape(n, -1), columns=CONSTITUENT_COLUMNS)
    if labels is None:
        return frame
    truth_columns = pd.DataFrame(np.asarray(truth, np.float32).reshape(n, 4), columns=TRUTH_COLUMNS)
    extra = pd.DataFrame({"ttv": np.full(n, ttv, np.int8), LABEL_COLUMN: np.asarray(labels, np.int8)})
    return pd.concat([frame, truth_columns, extra], axis=1)


def images_frame(images: np.ndarray, mass: np.ndarray, labels: np.ndarray | None) -> pd.DataFrame:
    """An images DataFrame: img_0 .. img_1599, is_signal_new (unless None), mass (GeV)."""
    n = len(images)
    frame = pd.DataFrame(np.asarray(images, np.float32).reshape(n, -1), columns=IMAGE_COLUMNS)
    if labels is not None:
        frame[LABEL_COLUMN] = np.asarray(labels, np.int8)
    frame["mass"] = np.asarray(mass, np.float32)
    return frame


def features_frame(features: dict[str, np.ndarray], labels: np.ndarray | None) -> pd.DataFrame:
    """A features DataFrame in FEATURE_COLUMNS order, plus is_signal_new unless None."""
    frame = pd.DataFrame({name: np.asarray(features[name]) for name in FEATURE_COLUMNS})
    if labels is not None:
        frame[LABEL_COLUMN] = np.asarray(labels, np.int8)
    return frame


class AtomicStore:
    """Append DataFrames to ``path`` through a temporary file renamed into place on success.

    A crash leaves the previous file (if any) untouched and at most a stray
    ``.tmp`` file, which the next run overwrites.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.tmp = self.path.with_name(self.path.name + ".tmp")
        self._store: pd.HDFStore | None = None
        self._rows = 0

    def __enter__(self) -> AtomicStore:
        self.tmp.unlink(missing_ok=True)
        # blosc:lz4 is bundled with PyTables: fast and shrinks the zero padding a lot
        self._store = pd.HDFStore(self.tmp, mode="w", complevel=5, complib="blosc:lz4")
        return self

    def append(self, frame: pd.DataFrame) -> None:
        """Append rows; the stored index runs 0 .. N-1 over the whole file."""
        assert self._store is not None
        frame = frame.set_axis(pd.RangeIndex(self._rows, self._rows + len(frame)))
        self._store.append(HDF_KEY, frame, index=False)
        self._rows += len(frame)

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self._store is not None
        self._store.close()
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)


# ---------------------------------------------------------------- manifest


def sha256(path: str | Path) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(directory: str | Path) -> dict | None:
    """The folder's manifest.json, or None when there is none."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise UserError(f"{path} is corrupt; rerun the same `keraslab toptag generate` with --overwrite") from None


def write_manifest(directory: str | Path, manifest: dict) -> None:
    """Write manifest.json atomically."""
    atomic_write_bytes(Path(directory) / MANIFEST, (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())


def verify_checksums(directory: str | Path) -> list[str]:
    """Problems with the files the manifest lists (missing or changed); empty when all match."""
    manifest = read_manifest(directory)
    if manifest is None:
        return [f"no {MANIFEST} in {directory}"]
    problems = []
    for name, entry in sorted(manifest.get("files", {}).items()):
        path = Path(directory) / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif sha256(path) != entry["sha256"]:
            problems.append(f"{name} does not match its SHA-256 checksum")
    return problems


def dataset_status(directory: str | Path | None = None) -> tuple[bool, str]:
    """Whether a jets folder is ready to use, and a one-line explanation (for ``keraslab doctor``).

    directory defaults to $KERASLAB_JETS_DIR, else data/jets. Checks presence
    and completeness (cheap), not checksums: ``keraslab toptag validate`` does those.
    """
    directory = Path(directory) if directory is not None else default_jets_dir()
    if not directory.is_dir():
        return False, f"no jets folder at {directory}: run `keraslab toptag generate --jets 10000 --out {directory}`"
    missing = [s for s in SPLITS if not sample_path(directory, s).is_file()]
    try:
        manifest = read_manifest(directory)
    except UserError as err:
        return False, str(err)
    if manifest is not None and not manifest.get("complete", False):
        return False, f"{directory} is incomplete: rerun the same `keraslab toptag generate` command to finish it"
    if missing:
        return False, f"{directory} lacks {', '.join(m + '.h5' for m in missing)}; {LAYOUT_HINT}"
    try:
        jets = {s: count_jets(sample_path(directory, s)) for s in SPLITS}
    except UserError as err:
        return False, str(err)
    derived = all(sample_path(directory, s, k).is_file() for s in SPLITS for k in ("images", "features"))
    origin = "generated" if manifest is not None else "reference-format (no manifest)"
    summary = ", ".join(f"{s} {n}" for s, n in jets.items())
    note = "" if derived else "; images/features missing: run `keraslab toptag derive " + str(directory) + "`"
    return derived, f"{directory}: {origin} jets ({summary}){note}"
