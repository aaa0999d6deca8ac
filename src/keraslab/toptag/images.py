"""Jet images: the lab's 40 x 40 (eta, phi) pictures of a jet's pT.

Preprocessing, from the stored constituents of each jet:

1. coordinates (eta, phi) relative to the jet axis, phi wrapped into (-pi, pi];
2. centred on the pT-weighted centroid;
3. rotated so that the principal axis of the pT-weighted (eta, phi) cloud is
   vertical, i.e. along the image rows;
4. flipped so that the harder half lies at positive x (columns) and positive
   y (rows): the hardest part ends in the top-right quadrant when drawn with
   ``imshow(image, origin="lower")``;
5. pT summed into 40 x 40 pixels covering |x|, |y| < 1.0 (0.05 per pixel),
   then normalised to unit sum.

``images[n, row, column]``: rows run along y (the principal axis), columns along x.
"""

from __future__ import annotations

import numpy as np

from keraslab.toptag.dataset import IMAGE_PIXELS

IMAGE_HALF_WIDTH = 1.0  # in eta / phi units; jets have radius 0.8


def jet_images(four_vectors: np.ndarray, pixels: int = IMAGE_PIXELS) -> np.ndarray:
    """Images of shape (N, pixels, pixels), float32, each summing to 1 (0 for an empty jet).

    four_vectors: (N, n_constituents, 4), (E, px, py, pz) in GeV, zero-padded.
    """
    four_vectors = np.asarray(four_vectors, np.float64)
    n_jets = len(four_vectors)
    e, px, py, pz = np.moveaxis(four_vectors, -1, 0)
    pt = np.hypot(px, py)
    present = (e > 0) & (pt > 0)
    pt = np.where(present, pt, 0.0)
    eta = np.arcsinh(np.divide(pz, pt, out=np.zeros_like(pz), where=present))
    phi = np.arctan2(py, px)

    total = four_vectors.sum(axis=1)
    jet_pt = np.hypot(total[:, 1], total[:, 2])
    jet_eta = np.arcsinh(np.divide(total[:, 3], jet_pt, out=np.zeros_like(jet_pt), where=jet_pt > 0))
    jet_phi = np.arctan2(total[:, 2], total[:, 1])
    x = eta - jet_eta[:, None]
    y = np.angle(np.exp(1j * (phi - jet_phi[:, None])))  # wrapped difference

    weight_sum = np.maximum(pt.sum(axis=1, keepdims=True), 1e-12)
    x -= (pt * x).sum(axis=1, keepdims=True) / weight_sum
    y -= (pt * y).sum(axis=1, keepdims=True) / weight_sum

    # principal axis: angle of the major eigenvector of the pT-weighted covariance
    sxx, syy, sxy = ((pt * a * b).sum(axis=1) for a, b in ((x, x), (y, y), (x, y)))
    angle = 0.5 * np.arctan2(2 * sxy, sxx - syy)
    rotation = (np.pi / 2 - angle)[:, None]
    x, y = x * np.cos(rotation) - y * np.sin(rotation), x * np.sin(rotation) + y * np.cos(rotation)

    x *= np.where((pt * (x > 0)).sum(axis=1) >= (pt * (x < 0)).sum(axis=1), 1.0, -1.0)[:, None]
    y *= np.where((pt * (y > 0)).sum(axis=1) >= (pt * (y < 0)).sum(axis=1), 1.0, -1.0)[:, None]

    scale = pixels / (2 * IMAGE_HALF_WIDTH)
    column = np.floor((x + IMAGE_HALF_WIDTH) * scale).astype(np.int64)
    row = np.floor((y + IMAGE_HALF_WIDTH) * scale).astype(np.int64)
    inside = present & (column >= 0) & (column < pixels) & (row >= 0) & (row < pixels)
    flat_index = (np.arange(n_jets)[:, None] * pixels + row) * pixels + column
    images = np.bincount(flat_index[inside], weights=pt[inside], minlength=n_jets * pixels * pixels)
    images = images.astype(np.float64).reshape(n_jets, pixels, pixels)  # bincount of nothing is int
    sums = images.sum(axis=(1, 2), keepdims=True)
    return np.divide(images, sums, out=np.zeros_like(images), where=sums > 0).astype(np.float32)
