"""The public files of a jets folder that ``keraslab challenge serve --data DIR`` hands out, and their index.

Served: train, val and test (reference format) with their images and features,
and the challenge file with its images and features, which carry no truth
(layout: keraslab.toptag.dataset). Never ``hidden/`` nor ``manifest.json``
(its settings hold the seed, which would regenerate the challenge's labels).
Only the names in :data:`PUBLIC_FILES` are ever served or downloaded: a request
is looked up in the index, never joined to a path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from keraslab.errors import UserError
from keraslab.toptag import dataset as ds

KINDS = ("constituents", "images", "features")
PUBLIC_FILES = tuple(ds.sample_path("", sample, kind).name for sample in ds.ALL_SAMPLES for kind in KINDS)


@dataclass(frozen=True)
class PublicFile:
    name: str  # one of PUBLIC_FILES
    path: Path
    size: int  # bytes
    sha256: str  # from the folder's manifest
    jets: int | None

    def as_json(self) -> dict:
        return {"name": self.name, "size": self.size, "sha256": self.sha256, "jets": self.jets}


def public_files(directory: Path) -> dict[str, PublicFile]:
    """name -> PublicFile for the public files of ``directory`` that its manifest records.

    UserError when the folder has no manifest, lacks a split, or a file the manifest lists is missing.
    """
    directory = Path(directory)
    manifest = ds.read_manifest(directory)
    if manifest is None:
        raise UserError(f"{directory} has no {ds.MANIFEST}; serve a folder made by `keraslab toptag generate` (it lists every file's SHA-256)")
    recorded = manifest.get("files", {})
    listed = {}
    for name in PUBLIC_FILES:
        if name not in recorded:
            continue
        path = directory / name
        if not path.is_file():
            raise UserError(f"{path} is missing but {ds.MANIFEST} lists it; rerun `keraslab toptag generate` to finish {directory}")
        entry = recorded[name]
        listed[name] = PublicFile(name, path, path.stat().st_size, entry["sha256"], entry.get("jets"))
    missing = [s for s in ds.SPLITS if ds.sample_path("", s).name not in listed]
    if missing:
        raise UserError(f"{directory} lacks {', '.join(m + '.h5' for m in missing)} in its {ds.MANIFEST}; {ds.LAYOUT_HINT}")
    return listed


def check_challenge_matches(files: dict[str, PublicFile], n_jets: int) -> None:
    """UserError when the served challenge file has another number of jets than the challenge in the database."""
    challenge = files.get(ds.sample_path("", ds.CHALLENGE).name)
    if challenge is not None and (served := ds.count_jets(challenge.path)) != n_jets:
        raise UserError(
            f"{challenge.path} has {served} jets but the challenge in the database has {n_jets}; "
            "serve the jets folder the challenge was created from (keraslab challenge init --truth DIR)"
        )
