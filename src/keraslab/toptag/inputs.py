"""Network inputs for top tagging, prepared once for every model.

Three kinds of input, as the lab and the papers use them:

* ``"constituents20"``: the original lab's DNN input, the first 20
  constituents' (E, px, py, pz) in GeV, flattened to 80 numbers.
* ``"image"``: the 40 x 40 jet image as a fraction of the jet's total
  intensity per pixel, with a channel axis (N, 40, 40, 1) for Conv2D.
* ``"particles"``: each constituent relative to the jet axis, as in
  ParticleNet (Qu and Gouskos 2020) and the Particle-Flow Network (Komiske,
  Metodiev and Thaler 2019): Delta eta, Delta phi, log pT, log E,
  log(pT / pT_jet), log(E / E_jet), Delta R, sorted by decreasing pT.
  Zero-padded slots stay exactly zero in all features, which is what the
  networks' masks test for.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from keraslab.errors import UserError

INPUT_KINDS = ("constituents20", "image", "particles")

# Feature columns of the "particles" input; the first two are the (eta, phi)
# coordinates in which ParticleNet looks for nearest neighbours.
PARTICLE_FEATURES = ("delta_eta", "delta_phi", "log_pt", "log_e", "log_pt_rel", "log_e_rel", "delta_r")
COORDINATES = slice(0, 2)

LAB_CONSTITUENTS = 20  # the original lab's DNN looks at the first 20 constituents


def _pt_eta_phi(px: np.ndarray, py: np.ndarray, pz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Transverse momentum (GeV), pseudorapidity and azimuth; eta = 0 where pT = 0."""
    pt = np.hypot(px, py)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.where(pt > 0, np.arcsinh(np.divide(pz, pt, out=np.zeros_like(pz), where=pt > 0)), 0.0)
    return pt, eta, np.arctan2(py, px)


def check_p4(p4: np.ndarray) -> np.ndarray:
    """Return ``p4`` as float64 after checking it is (N, constituents, 4) = (E, px, py, pz)."""
    p4 = np.asarray(p4)
    if p4.ndim != 3 or p4.shape[-1] != 4:
        raise UserError(
            f"constituents have shape {p4.shape}; expected (jets, constituents, 4) with E, px, py, pz in GeV "
            "as written by `keraslab toptag generate`"
        )
    return p4.astype(np.float64, copy=False)


def lab_constituents(p4: np.ndarray, n_constituents: int = LAB_CONSTITUENTS) -> np.ndarray:
    """The original lab's DNN input: first ``n_constituents`` (E, px, py, pz) in GeV, flattened.

    Returns float32 of shape (N, 4 * n_constituents), as in the lab (no rescaling).
    """
    p4 = check_p4(p4)
    if p4.shape[1] < n_constituents:
        raise UserError(f"the data hold {p4.shape[1]} constituents per jet; the DNN needs at least {n_constituents}")
    return p4[:, :n_constituents, :].reshape(len(p4), -1).astype(np.float32)


def particle_features(p4: np.ndarray, n_constituents: int | None = None) -> np.ndarray:
    """Per-constituent features relative to the jet axis (see ``PARTICLE_FEATURES``).

    ``p4`` is (N, P, 4) with (E, px, py, pz) in GeV, zero rows for padding.
    Constituents are sorted by decreasing pT and the hardest ``n_constituents``
    kept (all when None). Returns float32 (N, n_constituents, 7); padded slots
    are all zero. Energies and momenta enter as natural logs of GeV.
    """
    p4 = check_p4(p4)
    order = np.argsort(-np.hypot(p4[..., 1], p4[..., 2]), axis=1, kind="stable")
    p4 = np.take_along_axis(p4, order[..., None], axis=1)
    if n_constituents is not None:
        p4 = p4[:, :n_constituents]
    energy, px, py, pz = np.moveaxis(p4, -1, 0)
    real = energy > 0

    jet = p4.sum(axis=1)  # the jet axis: the sum of its constituents' four-momenta
    jet_pt, jet_eta, jet_phi = _pt_eta_phi(jet[:, 1], jet[:, 2], jet[:, 3])
    pt, eta, phi = _pt_eta_phi(px, py, pz)

    delta_eta = eta - jet_eta[:, None]
    delta_phi = (phi - jet_phi[:, None] + np.pi) % (2 * np.pi) - np.pi  # wrapped to [-pi, pi)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_pt = np.log(pt)
        log_e = np.log(energy)
        features = np.stack(
            [
                delta_eta,
                delta_phi,
                log_pt,
                log_e,
                log_pt - np.log(jet_pt)[:, None],
                log_e - np.log(jet[:, 0])[:, None],
                np.hypot(delta_eta, delta_phi),
            ],
            axis=-1,
        )
    features = np.where(real[..., None], features, 0.0)
    return np.nan_to_num(features, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


def image_input(images: np.ndarray) -> np.ndarray:
    """Jet images (N, H, W) as the fraction of each jet's intensity per pixel, shape (N, H, W, 1).

    Normalising each image to unit sum, as the image taggers do, removes the
    jet's overall pT scale and leaves its shape.
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3:
        raise UserError(
            f"jet images have shape {images.shape}; expected (jets, 40, 40) as written by `keraslab toptag generate`"
        )
    total = images.sum(axis=(1, 2), keepdims=True)
    normalised = np.divide(images, total, out=np.zeros_like(images), where=total > 0)
    return normalised[..., None].astype(np.float32)


def one_hot(labels: np.ndarray) -> np.ndarray:
    """Labels 0 (QCD) / 1 (top) as the lab's two-column one-hot targets."""
    labels = np.asarray(labels).astype(int)
    return np.eye(2, dtype=np.float32)[labels]


def input_path(kind: str, data: Path, sample: str | None = None) -> Path:
    """The file to read input ``kind`` from.

    With ``sample`` (train, val, test, challenge), ``data`` is a jets folder;
    without it, ``data`` is a constituents file such as ``challenge.h5`` and an
    image input is read from the ``*_images.h5`` file beside it.
    """
    from keraslab.toptag import dataset  # one place for the folder layout

    file_kind = "images" if kind == "image" else "constituents"
    if sample is not None:
        return dataset.sample_path(data, sample, file_kind)
    data = Path(data)
    return data.with_name(f"{data.stem}_images.h5") if file_kind == "images" else data


def load_inputs(
    kind: str, data: Path, sample: str | None = None, n_jets: int | None = None, n_constituents: int | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Read one sample and prepare input ``kind``: returns (x, labels or None).

    See ``input_path`` for ``data`` and ``sample``. Missing or malformed files
    are ``UserError``s naming the jets-folder layout (from the dataset readers).
    """
    from keraslab.toptag import dataset

    if kind not in INPUT_KINDS:
        raise ValueError(f"unknown input kind {kind!r}; one of {INPUT_KINDS}")
    path = input_path(kind, data, sample)
    if kind == "image":
        images, labels = dataset.read_images(path, n_jets=n_jets)
        return image_input(images), labels
    p4, labels = dataset.read_constituents(path, n_jets=n_jets)
    if kind == "constituents20":
        return lab_constituents(p4), labels
    return particle_features(p4, n_constituents), labels
