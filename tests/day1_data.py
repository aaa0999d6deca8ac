"""Tiny Fashion-MNIST look-alikes for the day-one tests (never the real data)."""

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np

FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def write_idx(path: Path, array: np.ndarray) -> None:
    """IDX by hand: two zero bytes, type 0x08 (uint8), number of dimensions, big-endian sizes, the data."""
    header = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def write_tiny_fashion_mnist(folder: Path, n_train: int = 12, n_test: int = 5, seed: int = 0) -> dict[str, np.ndarray]:
    """Four tiny IDX .gz files in ``folder`` plus ``folder/SHA256SUMS`` (sha256sum format); returns the arrays."""
    rng = np.random.default_rng(seed)
    arrays = dict(zip(FILES, (rng.integers(0, 256, (n_train, 28, 28)), rng.integers(0, 10, n_train),
                              rng.integers(0, 256, (n_test, 28, 28)), rng.integers(0, 10, n_test))))
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        write_idx(folder / name, array)
    (folder / "SHA256SUMS").write_text(
        "".join(f"{hashlib.sha256((folder / name).read_bytes()).hexdigest()}  {name}\n" for name in FILES))
    return arrays
