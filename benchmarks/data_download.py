"""Throughput of ``keraslab toptag download`` from ``keraslab challenge serve --data`` over the loopback interface.

Writes a synthetic jets folder of random bytes (``--mib`` MiB in the nine
train/val/test files, in the proportions of a generated folder) with a
manifest, in a temporary folder; serves it with the real command on a free
port on 127.0.0.1; times the real download command (interpreter start, index,
transfer, SHA-256 of every file, rename) and, for comparison, curl on the
largest file; deletes everything.

    .venv/bin/python benchmarks/data_download.py            # about 1 GB
    .venv/bin/python benchmarks/data_download.py --mib 100
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from keraslab.challenge import store
from keraslab.challenge.db import make_engine
from keraslab.toptag import dataset as ds

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from local_services import LOOPBACK, free_port

# shares of a generated folder's bytes: constituents dominate, then images, then features
SHARES = {"": 0.9, "_images": 0.09, "_features": 0.01}
SPLIT_SHARES = {"train": 0.6, "val": 0.2, "test": 0.2}
WRITE_BYTES = 2**20  # bytes per write


def make_folder(directory: Path, mib: int) -> int:
    """Random files with a manifest; return their total size in bytes."""
    rng = np.random.default_rng(0)
    files, total = {}, 0
    for split, split_share in SPLIT_SHARES.items():
        for suffix, share in SHARES.items():
            name = f"{split}{suffix}.h5"
            size = max(1, round(mib * split_share * share)) * 2**20
            with open(directory / name, "wb") as out:
                out.writelines(rng.bytes(WRITE_BYTES) for _ in range(size // WRITE_BYTES))
            files[name] = {"sha256": ds.sha256(directory / name), "jets": None}
            total += size
    ds.write_manifest(directory, {"files": files, "complete": True})
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1000, help="size of the synthetic folder in MiB")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="keraslab-download-"))
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    keraslab = [sys.executable, "-m", "keraslab.cli"]
    server = None
    try:
        (work / "jets").mkdir()
        total = make_folder(work / "jets", args.mib)
        labels = np.random.default_rng(1).integers(0, 2, 1000).astype(np.int8)
        store.create_challenge(make_engine(str(work / "challenge.db")), labels, 0.5, 5, None)
        server = subprocess.Popen([*keraslab, "challenge", "serve", "--db", str(work / "challenge.db"), "--data",
                                   str(work / "jets"), "--host", LOOPBACK, "--port", str(port)], stdout=subprocess.DEVNULL)
        for _ in range(300):
            try:
                if httpx.get(url + "/data/").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        start = time.perf_counter()
        subprocess.run([*keraslab, "toptag", "download", "--server", url, "--out", str(work / "got")], check=True,
                       stderr=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        print(f"keraslab toptag download: {total / 2**20:.0f} MiB in {seconds:.1f} s = {total / 2**20 / seconds:.0f} MiB/s "
              "(start, index, transfer, SHA-256, rename)")
        if shutil.which("curl"):
            start = time.perf_counter()
            subprocess.run(["curl", "-sf", "-o", "/dev/null", url + "/data/train.h5"], check=True)
            seconds = time.perf_counter() - start
            size = (work / "jets" / "train.h5").stat().st_size
            print(f"curl train.h5 (transfer only): {size / 2**20:.0f} MiB in {seconds:.1f} s = {size / 2**20 / seconds:.0f} MiB/s")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
