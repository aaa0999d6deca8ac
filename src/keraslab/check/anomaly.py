"""Self-checks of labs/11_anomaly_jets.py: ``from keraslab.check import anomaly as check``."""

from __future__ import annotations

import numpy as np

from keraslab.check import Hint, _exercise, _given, _model

ERROR_TOLERANCE = 1e-4  # relative: float32 predictions summed in another order


def _per_jet(answer, name: str, n_jets: int) -> np.ndarray:
    values = np.asarray(_given(answer, name, "one number per jet"), dtype=np.float64)
    if values.ndim == 0:
        raise Hint(f"`{name}` is one number; the tagger needs one number per jet ({n_jets}): "
                   "average over the pixels of each jet only, e.g. axis=(1, 2, 3)")
    if values.shape != (n_jets,):
        if values.size == n_jets:
            raise Hint(f"`{name}` has shape {values.shape}; make it a flat array of {n_jets} numbers (.ravel())")
        raise Hint(f"`{name}` has shape {values.shape}; it should hold one number per jet ({n_jets},): "
                   "average the squared differences over the pixels of each jet (axis=(1, 2, 3))")
    return values


@_exercise("the reconstruction error of each jet")
def reconstruction_errors(errors, model, images) -> str:
    """``errors``: per jet of ``images``, the mean over its pixels of (image − model(image))²."""
    from keraslab.beyond.anomaly import reconstruction_error

    model = _model(model, "autoencoder")
    images = np.asarray(images, dtype=np.float32)
    errors = _per_jet(errors, "my_errors", len(images))
    expected = reconstruction_error(model, images)
    if np.allclose(errors, expected, rtol=ERROR_TOLERANCE, atol=0):
        return f"{len(errors)} errors, the package's keraslab.beyond.anomaly.reconstruction_error"
    if np.allclose(errors, np.sqrt(expected), rtol=ERROR_TOLERANCE, atol=0):
        raise Hint("these are the square roots (RMS): the autoencoder was trained on the mean squared error, "
                   "so score each jet with that, without the root")
    if np.allclose(errors, expected * images[0].size, rtol=ERROR_TOLERANCE, atol=0):
        raise Hint(f"these are sums over the {images[0].size} pixels: take the mean, as the loss 'mse' does")
    reconstructed = np.asarray(model.predict(images, batch_size=1024, verbose=0), dtype=np.float64)
    absolute = np.mean(np.abs(reconstructed - images).reshape(len(images), -1), axis=1)
    if np.allclose(errors, absolute, rtol=ERROR_TOLERANCE, atol=0):
        raise Hint("these are mean absolute differences: square the differences, as the loss 'mse' does")
    raise Hint("these differ from (image − reconstruction)² averaged over each jet's pixels: reconstruct with "
               "autoencoder.predict(images), subtract, square, then average over the pixels (axis=(1, 2, 3))")


@_exercise("1/eps_B at eps_S = 0.3 by hand")
def rejection_at_30(rejection, labels, errors) -> str:
    """``rejection``: 1/eps_B at eps_S = 0.3 of the tagger "a larger error is more top-like", from the
    test jets' ``labels`` (1 = top) and ``errors``; right within the binomial interval of the QCD jets that pass."""
    from keraslab.metrics import rejection_at, rejection_with_uncertainty

    rejection = float(np.asarray(_given(rejection, "my_rejection", "your 1/eps_B, one number")).item())
    labels, errors = np.asarray(labels).astype(int), np.asarray(errors, dtype=np.float64)
    reference = rejection_with_uncertainty(labels, errors, 0.3)
    low, high = min(reference.low, reference.value), max(reference.high, reference.value)
    if low * 0.99 <= rejection <= high * 1.01:
        return (f"1/eps_B = {rejection:.1f}; keraslab.metrics gives {reference} "
                f"(at eps_S = 0.3 the cut keeps 30 % of the top jets)")
    if 0 < rejection < 1 and low <= 1 / rejection <= high:
        raise Hint(f"{rejection:.3g} is eps_B, the fraction of QCD jets passing: the rejection is its inverse, 1/eps_B")
    if np.isclose(rejection, rejection_at(labels, -errors, 0.3), rtol=0.01):
        raise Hint("this is the rejection of the opposite tagger: top jets are those with the LARGEST errors; "
                   "cut so that 30 % of the top jets lie above the threshold")
    if np.isclose(rejection, rejection_at(1 - labels, errors, 0.3), rtol=0.01):
        raise Hint("the classes are swapped: eps_S is measured on the top jets (label 1), eps_B on the QCD jets "
                   "(label 0)")
    raise Hint(f"{rejection:.3g} is outside the interval [{low:.1f}, {high:.1f}] the jets allow: find the error "
               "threshold that 30 % of the top jets exceed (np.quantile(top_errors, 0.7)), then the fraction eps_B "
               "of QCD jets above it; the answer is 1/eps_B")
