"""Run folders and their files, without Keras: every part's ``--out`` goes through here.

``training`` builds on it (and re-exports it); the cut-based top tagger, which
trains nothing, uses it directly so that it needs no Keras import. A run folder
carries a marker file so that ``--overwrite`` deletes only what keraslab made,
and every JSON file is written atomically so a kill never leaves half of one.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from keraslab.errors import UserError

RESUME_FILE = "resume.json"
MARKER = ".keraslab-run"  # what --overwrite may delete: folders keraslab made


def read_json(path: Path) -> dict:
    """Read a JSON file written by keraslab."""
    with open(path) as f:
        return json.load(f)


def write_json(path: Path, data: Mapping) -> None:
    """Write atomically, so a kill never leaves half a file behind."""
    atomic_write_bytes(path, (json.dumps(data, indent=2) + "\n").encode())


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write bytes via a temporary file and an atomic rename."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _is_run_folder(path: Path) -> bool:
    return (path / MARKER).exists() or (path / RESUME_FILE).exists()


def prepare_run_dir(run_dir: Path | str, *, resume: bool = False, overwrite: bool = False) -> Path:
    """Create or check a run folder and return it as a Path.

    A folder holding a previous run is refused unless ``resume`` or ``overwrite``;
    ``overwrite`` deletes only a previous keraslab run, never a folder of other files.
    """
    run_dir = Path(run_dir)
    if resume and overwrite:
        raise UserError("--resume and --overwrite contradict each other; choose one")
    if resume:
        if not resumable(run_dir):
            raise UserError(f"nothing to resume in {run_dir}: no finished epoch was saved there; run without --resume")
    elif run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
        if not run_dir.is_dir():
            raise UserError(f"--out {run_dir} is a file; choose a folder")
        if not overwrite:
            raise UserError(f"{run_dir} already holds files; pass --resume to continue that run, --overwrite to replace it, or choose another --out")
        if not (_is_run_folder(run_dir) or any(_is_run_folder(p) for p in _children(run_dir))):
            raise UserError(f"{run_dir} is not a keraslab run folder, so --overwrite will not delete it; choose another --out")
        shutil.rmtree(run_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / MARKER).write_text("a keraslab run folder: --overwrite may replace it\n")
    except OSError as err:
        raise UserError(f"cannot write to {run_dir} ({err.strerror or err}); choose a writable --out") from None
    return run_dir


def resumable(run_dir: Path | str) -> bool:
    """Has this run folder (or a folder in it, e.g. an over-training variant) a finished epoch saved?"""
    run_dir = Path(run_dir)
    return (run_dir / RESUME_FILE).exists() or any((p / RESUME_FILE).exists() for p in _children(run_dir))


def _children(path: Path) -> list[Path]:
    return list(path.iterdir()) if path.is_dir() else []


def write_metrics(run_dir: Path | str, metrics: Mapping[str, Any]) -> dict:
    """Merge ``metrics`` into ``run_dir/metrics.json`` and return the whole dict."""
    path = Path(run_dir) / "metrics.json"
    merged = {**(read_json(path) if path.exists() else {}), **metrics}
    write_json(path, merged)
    return merged
