"""High-level jet features from stored constituents: mass, pT, eta, N-subjettiness.

All inputs are four-vectors of shape (N, n_constituents, 4) ordered
(E, px, py, pz) in GeV, zero-padded; padding rows (E = 0) are ignored.
"""

from __future__ import annotations

import contextlib
import os
import warnings

import numpy as np

from keraslab.errors import needs_extra

NSUBJETTINESS_R0 = 0.8  # the jet radius
NSUBJETTINESS_BETA = 1.0
NSUBJETTINESS_AXES = "OnePass_KT_Axes"  # the features' axes; Delphes' FastJetFinder defaults to WTA_KT_Axes


def jet_kinematics(four_vectors: np.ndarray) -> dict[str, np.ndarray]:
    """The jets' mass and pT (GeV), pseudorapidity and azimuth from the sum of their constituents."""
    total = np.asarray(four_vectors, np.float64).sum(axis=1)
    e, px, py, pz = total.T
    pt = np.hypot(px, py)
    mass = np.sqrt(np.maximum(e**2 - px**2 - py**2 - pz**2, 0.0))
    eta = np.arcsinh(np.divide(pz, pt, out=np.zeros_like(pz), where=pt > 0))
    return {"mass": mass, "pt": pt, "eta": eta, "phi": np.arctan2(py, px)}


@contextlib.contextmanager
def quiet_stdout():
    """Silence C/C++ output on file descriptor 1 (FastJet's banner, Pythia's listings)."""
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def silence_fastjet_banner() -> None:
    """Print FastJet's once-per-process banner into /dev/null so it never reaches users."""
    with needs_extra("generate"):
        import fastjet

    with quiet_stdout():
        fastjet._swig.ClusterSequence.print_banner()  # the awkward-level class lacks it


def nsubjettiness(four_vectors: np.ndarray, n_max: int = 3, axes: str = NSUBJETTINESS_AXES) -> np.ndarray:
    """N-subjettiness tau_1 .. tau_n_max of each jet, shape (N, n_max).

    Normalised measure with beta = 1 and R0 = 0.8, through FastJet-contrib's
    Nsubjettiness (shipped in the fastjet wheel). axes: "OnePass_KT_Axes"
    (exclusive-kT axes refined by one pass of minimisation, keraslab's
    features) or "KT_Axes" (plain exclusive-kT axes); docs/jets.md compares
    the two. A jet with fewer than N constituents has tau_N = 0.
    """
    with needs_extra("generate"):
        import awkward as ak
        import fastjet

    silence_fastjet_banner()
    four_vectors = np.asarray(four_vectors, np.float64)
    present = four_vectors[..., 0] > 0
    flat = four_vectors[present]
    jets = ak.unflatten(
        ak.zip({"px": flat[:, 1], "py": flat[:, 2], "pz": flat[:, 3], "E": flat[:, 0]}), present.sum(axis=1)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fastjet warns about exclusive jets for any algorithm
        sequence = fastjet.ClusterSequence(jets, fastjet.JetDefinition(fastjet.antikt_algorithm, NSUBJETTINESS_R0))
        taus = sequence.njettiness(
            axes_definition=axes, njets=list(range(1, n_max + 1)), beta=NSUBJETTINESS_BETA, R0=NSUBJETTINESS_R0
        )
    return ak.to_numpy(taus).reshape(len(four_vectors), n_max)


def jet_features(four_vectors: np.ndarray) -> dict[str, np.ndarray]:
    """The features stored in {split}_features.h5 (see keraslab.toptag.dataset.FEATURE_COLUMNS).

    mass and pt in GeV; tau21 = tau2/tau1 and tau32 = tau3/tau2 (0 where the
    denominator is 0); n_constituents counts non-padding rows.
    """
    kinematics = jet_kinematics(four_vectors)
    taus = nsubjettiness(four_vectors)
    tau1, tau2, tau3 = taus.T
    return {
        "mass": kinematics["mass"].astype(np.float32),
        "pt": kinematics["pt"].astype(np.float32),
        "eta": kinematics["eta"].astype(np.float32),
        "tau1": tau1.astype(np.float32),
        "tau2": tau2.astype(np.float32),
        "tau3": tau3.astype(np.float32),
        "tau21": np.divide(tau2, tau1, out=np.zeros_like(tau2), where=tau1 > 0).astype(np.float32),
        "tau32": np.divide(tau3, tau2, out=np.zeros_like(tau3), where=tau2 > 0).astype(np.float32),
        "n_constituents": (np.asarray(four_vectors)[..., 0] > 0).sum(axis=1).astype(np.int16),
    }
