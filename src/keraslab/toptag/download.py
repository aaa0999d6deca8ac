"""``keraslab toptag download``: fetch the class's jets folder from the tutor's challenge server.

The server (``keraslab challenge serve --data DIR``) lists its public files
with their sizes and SHA-256 at ``/data/`` (keraslab.challenge.data_files).
Each file streams into ``NAME.part`` and is renamed into place once its
checksum matches; a rerun resumes a ``.part`` with an HTTP Range request and
skips files already there. A file that is there with other contents is never
replaced. Last, ``manifest.json`` records the downloaded files' checksums, so
``keraslab toptag validate`` checks them like a generated folder's.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import httpx

from keraslab.challenge.data_files import PUBLIC_FILES
from keraslab.errors import UserError
from keraslab.toptag import dataset as ds

MANIFEST_FORMAT = "keraslab-jets-download"
PARTIAL_SUFFIX = ".part"
TIMEOUT = httpx.Timeout(30.0)


def _get_index(client: httpx.Client, server: str) -> list[dict]:
    no_jets = f"{server} serves no jets; the tutor starts it with `keraslab challenge serve --data DIR`"
    try:
        reply = client.get("/data/")
    except httpx.HTTPError as err:
        raise UserError(f"cannot reach the challenge server at {server} ({type(err).__name__}); check --server, e.g. http://10.0.0.5:8000") from None
    if reply.status_code == 404:
        raise UserError(no_jets)
    if reply.status_code != 200:
        raise UserError(f"{server}/data/ answered {reply.status_code}; check --server: it is the tutor's challenge server")
    try:
        files = reply.json()["files"]
        checked = [{"name": f["name"], "size": int(f["size"]), "sha256": str(f["sha256"]), "jets": f.get("jets")} for f in files]
    except (ValueError, KeyError, TypeError):
        raise UserError(f"{server}/data/ is not a keraslab data index") from None
    if not checked:
        raise UserError(no_jets)
    unknown = [f["name"] for f in checked if f["name"] not in PUBLIC_FILES]  # never write a name the server made up
    if unknown:
        raise UserError(f"{server}/data/ lists files that are not jets-folder files: {', '.join(map(repr, unknown))}")
    return checked


def _fetch(client: httpx.Client, entry: dict, partial: Path, progress) -> str:
    """Append the rest of ``entry`` to ``partial`` (a Range request from its size) and return the SHA-256 of the whole.

    Starts over if the server ignores the range. The new bytes are hashed as they arrive, the kept ones read once.
    """
    have = partial.stat().st_size if partial.exists() else 0
    if have >= entry["size"]:
        return ds.sha256(partial)
    headers = {"Range": f"bytes={have}-"} if have else {}
    with client.stream("GET", f"/data/{entry['name']}", headers=headers) as reply:
        if reply.status_code not in (200, 206):
            raise UserError(f"the server answered {reply.status_code} for {entry['name']}; rerun the command to resume")
        if reply.status_code == 200 and have:  # no range support: the whole file again
            progress.update(-have)
            have = 0
        with open(partial, "r+b" if have else "wb") as out:
            digest = hashlib.file_digest(out, "sha256") if have else hashlib.sha256()  # leaves out at the end
            for block in reply.iter_raw():
                out.write(block)
                digest.update(block)
                progress.update(len(block))
    return digest.hexdigest()


def download(server: str, out: Path, progress: bool = True) -> list[dict]:
    """Download every public file of ``server`` into ``out``; return the index. UserError on any problem."""
    from tqdm.auto import tqdm

    server = server.rstrip("/")
    out = Path(out)
    with httpx.Client(base_url=server, timeout=TIMEOUT, follow_redirects=True) as client:
        files = _get_index(client, server)
        manifest = {"format": MANIFEST_FORMAT, "server": server, "complete": True,
                    "files": {f["name"]: {"sha256": f["sha256"], "jets": f["jets"]} for f in files}}
        if out.is_dir() and ds.read_manifest(out) not in (None, manifest):
            raise UserError(f"{out / ds.MANIFEST} exists and describes other jets; choose a new or empty --out folder")
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise UserError(f"cannot create {out} ({err.strerror}); choose a writable --out folder") from None
        todo = []
        for entry in files:
            target = out / entry["name"]
            if target.exists():
                if ds.sha256(target) != entry["sha256"]:
                    raise UserError(f"{target} exists with other contents; move it away or choose another --out folder")
                continue
            todo.append(entry)
        partials = {e["name"]: out / (e["name"] + PARTIAL_SUFFIX) for e in todo}
        already = sum(min(p.stat().st_size, e["size"]) if (p := partials[e["name"]]).exists() else 0 for e in todo)
        total = sum(e["size"] for e in todo)
        with tqdm(total=total, initial=already, unit="B", unit_scale=True, unit_divisor=1024, desc="jets", disable=not progress) as bar:
            for entry in todo:
                partial = partials[entry["name"]]
                try:
                    digest = _fetch(client, entry, partial, bar)
                except httpx.HTTPError as err:
                    raise UserError(
                        f"the download of {entry['name']} from {server} broke off ({type(err).__name__}); rerun the same command to resume"
                    ) from None
                if partial.stat().st_size != entry["size"] or digest != entry["sha256"]:
                    partial.unlink()
                    raise UserError(
                        f"{entry['name']} from {server} does not match its SHA-256 checksum (removed the download); "
                        "rerun to fetch it again, and tell the tutor if it fails again"
                    )
                os.replace(partial, out / entry["name"])
    ds.write_manifest(out, manifest)
    return files
