"""Fashion-MNIST: 70,000 grey 28x28 images of clothes in 10 classes (Zalando Research).

``load(data_dir=None) -> ((x_train, y_train), (x_test, y_test))`` with uint8 images of
shape (n, 28, 28) and uint8 labels 0..9. Where the four IDX .gz files come from:

1. ``data_dir`` (the CLI's ``--data-dir``), else
2. the folder in the environment variable ``KERASLAB_FASHION_MNIST_DIR``, else
3. Keras' own loader and cache (``keras.datasets.fashion_mnist.load_data()``, which
   downloads once into ``~/.keras/datasets/fashion-mnist/``), so a connected user
   needs nothing else.

Each file's SHA-256 must match one known set: the official Zalando release, or the
class mirror in ``../shared/data/fashion-mnist``, whose train/test split is NOT the
official one (numbers measured on it are comparable in distribution, not image for
image). A further release can be trusted through ``$KERASLAB_FASHION_MNIST_SHA256SUMS``
(a ``sha256sum``-format file). ``load_with_source`` also says which set matched; ``cache_status`` tells
``keraslab doctor`` whether verified files are present.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from keraslab.errors import UserError

ENV_VAR = "KERASLAB_FASHION_MNIST_DIR"
FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
OFFICIAL = "official Zalando release"
MIRROR = "class mirror (its test split is NOT the official one)"
# SHA-256 of the four files, by source. Official: as published with the Zalando files
# (e.g. the url_checksums of TensorFlow Datasets); mirror: its README.
KNOWN_CHECKSUMS: dict[str, dict[str, str]] = {
    OFFICIAL: {
        "train-images-idx3-ubyte.gz": "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
        "train-labels-idx1-ubyte.gz": "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
        "t10k-images-idx3-ubyte.gz": "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
        "t10k-labels-idx1-ubyte.gz": "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
    },
    MIRROR: {
        "train-images-idx3-ubyte.gz": "61d35e6a962376e2939ab90ae3aff848e398d488389aa1b59b4a5a5424dfe9fb",
        "train-labels-idx1-ubyte.gz": "bed6dbc9f639895de320b6bed590f55f88cb3fa46e87858fef1ecab22d6cac17",
        "t10k-images-idx3-ubyte.gz": "59136224e86aa8d1757024d8369e0010b5eaa56f3b25c3d7c5fb14ea198badd6",
        "t10k-labels-idx1-ubyte.gz": "2e12656e54e9cf179c5379686e0fa04ae433fd6ca1dd54cee4967151e83d67a1",
    },
}
Checksums = Mapping[str, Mapping[str, str]]
# A further trusted release (another mirror; the tests' tiny files): a file in
# `sha256sum` format, "<hex digest>  <file name>" per line.
SUMS_ENV_VAR = "KERASLAB_FASHION_MNIST_SHA256SUMS"
_FIX = (f"download the four files of https://github.com/zalandoresearch/fashion-mnist into a folder "
        f"and pass it with --data-dir or {ENV_VAR}")


def keras_cache_dir() -> Path:
    """Where ``keras.datasets.fashion_mnist.load_data()`` keeps the files."""
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets" / "fashion-mnist"


def data_folder(data_dir: Path | str | None = None) -> Path | None:
    """The offline folder in use: ``data_dir``, else ``$KERASLAB_FASHION_MNIST_DIR``, else None (Keras' cache)."""
    chosen = data_dir or os.environ.get(ENV_VAR)
    return Path(chosen) if chosen else None


def known_checksums() -> dict[str, dict[str, str]]:
    """The accepted releases: ``KNOWN_CHECKSUMS`` plus the file named by ``$KERASLAB_FASHION_MNIST_SHA256SUMS``."""
    sums_file = os.environ.get(SUMS_ENV_VAR)
    if not sums_file:
        return dict(KNOWN_CHECKSUMS)
    try:
        lines = Path(sums_file).read_text().splitlines()
    except OSError as err:
        raise UserError(f"cannot read {SUMS_ENV_VAR}={sums_file} ({err.strerror or err}); fix or unset it") from None
    extra = {}
    for line in filter(str.strip, lines):
        digest, _, name = line.strip().partition(" ")
        if not name.strip():
            raise UserError(f"{sums_file} (from {SUMS_ENV_VAR}) must hold lines '<sha256>  <file name>', got {line!r}")
        extra[name.strip().lstrip("*")] = digest  # sha256sum marks binary mode with '*'
    return {**KNOWN_CHECKSUMS, f"release with the checksums in {sums_file}": extra}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verify(folder: Path | str, checksums: Checksums | None = None) -> str:
    """Check the four files in ``folder`` against ``checksums`` (default: ``known_checksums()``);
    return the name of the matching set.

    All four must be present and come from the same set; otherwise a ``UserError`` says
    which file is wrong and how to fix it.
    """
    folder = Path(folder)
    checksums = known_checksums() if checksums is None else checksums
    if not folder.is_dir():
        raise UserError(f"Fashion-MNIST folder {folder} does not exist; {_FIX}")
    candidates = set(checksums)  # the releases every file so far belongs to
    for name in FILES:
        path = folder / name
        if not path.is_file():
            raise UserError(f"{path} is missing; {_FIX}")
        digest = _sha256(path)
        sources = {source for source, sums in checksums.items() if sums.get(name) == digest}
        if not sources:
            raise UserError(f"{path} is corrupt or unknown (SHA-256 {digest[:12]}... matches no known release); "
                            f"delete it and {_FIX}")
        candidates &= sources
    if not candidates:
        raise UserError(f"the files in {folder} mix different releases; use the four files of one release")
    return next(source for source in checksums if source in candidates)


def _read_idx(path: Path, dims: int) -> np.ndarray:
    # Keras' loader cannot read from a chosen folder, hence this small IDX reader:
    # big-endian header: 0x0000, type 0x08 (uint8), number of dimensions, then each size.
    data = gzip.decompress(path.read_bytes())
    if data[:3] != b"\x00\x00\x08" or data[3] != dims:
        raise UserError(f"{path} is not an IDX file of {dims}-dimensional uint8 data; {_FIX}")
    shape = tuple(int(v) for v in np.frombuffer(data, dtype=">u4", count=dims, offset=4))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_with_source(
    data_dir: Path | str | None = None, checksums: Checksums | None = None
) -> tuple[tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]], str]:
    """Like ``load``, and also return which known release the files are (e.g. ``OFFICIAL``)."""
    folder = data_folder(data_dir)
    if folder is None:  # Keras' own loader and cache
        import keras

        cache = keras_cache_dir()
        cached = all((cache / name).is_file() for name in FILES)
        source = verify(cache, checksums) if cached else None  # a corrupt cache: say so before reading it
        try:
            data = keras.datasets.fashion_mnist.load_data()
        except Exception as err:  # no network, proxy, ...: the user can fix it
            raise UserError(f"Keras could not download Fashion-MNIST ({err}); {_FIX}") from None
        return data, source or verify(cache, checksums)
    source = verify(folder, checksums)
    train = (_read_idx(folder / FILES[0], 3), _read_idx(folder / FILES[1], 1))
    test = (_read_idx(folder / FILES[2], 3), _read_idx(folder / FILES[3], 1))
    for (images, labels), what in ((train, "training"), (test, "test")):
        if len(images) != len(labels):
            raise UserError(f"the {what} images and labels in {folder} differ in number; {_FIX}")
    return (train, test), source


def load(
    data_dir: Path | str | None = None, checksums: Checksums | None = None
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Return ``((x_train, y_train), (x_test, y_test))``, verified (see the module docstring)."""
    return load_with_source(data_dir, checksums)[0]


def scale(images: np.ndarray) -> np.ndarray:
    """Pixels 0..255 to float32 in [0, 1], as on the slides."""
    return np.asarray(images, dtype=np.float32) / 255.0


def cache_status(data_dir: Path | str | None = None) -> tuple[bool, str]:
    """Are verified files present (offline folder, else Keras' cache)? Returns ``(ok, message)``; never downloads."""
    folder = data_folder(data_dir) or keras_cache_dir()
    try:
        source = verify(folder)
    except UserError as err:
        return False, str(err)
    return True, f"Fashion-MNIST in {folder}: {source}"
