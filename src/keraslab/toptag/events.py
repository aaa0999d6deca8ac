"""From collision events to jets: Pythia 8, the detector model, FastJet and truth matching.

Physics (as the reference dataset, with keraslab.toptag.detector for Delphes):
pp at 14 TeV, Pythia 8 default tune, no MPI, no pile-up; signal t tbar with
both W bosons decaying to quarks, background QCD 2 -> 2, both with
pTHatMin = 500 GeV; anti-kT R = 0.8 jets on energy-flow objects; the leading
jet must have 550 < pT < 650 GeV and |eta| < 2; a signal jet must contain the
top quark and its three decay quarks within Delta R < 0.8 of its axis.

A batch of Pythia events goes through :func:`jets_from_batch`, one named step
per stage: :func:`final_state`, :func:`detector_objects`, :func:`cluster`,
:func:`leading_jets`, :func:`truth_match` (signal only), :func:`padded_constituents`.
Momenta and energies are in GeV throughout. Awkward, FastJet and Pythia are
imported inside the functions that use them, so that importing this module for
its constants (as validation does) loads none of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from keraslab.errors import needs_extra
from keraslab.toptag import dataset as ds
from keraslab.toptag.detector import Particles, reconstruct

if TYPE_CHECKING:
    import awkward as ak

PYTHIA_COMMON = (
    "Beams:eCM = 14000.",
    "PhaseSpace:pTHatMin = 500.",
    "PartonLevel:MPI = off",
    "Print:quiet = on",
    "Next:numberCount = 0",
    "Next:numberShowEvent = 0",
    "Next:numberShowInfo = 0",
    "Next:numberShowProcess = 0",
    "Random:setSeed = on",
)
PYTHIA_PROCESS = {
    # hadronic W decays only: the reference's signal is hadronic tops, and
    # leptonic ones would be thrown away by the truth matching anyway
    1: ("Top:gg2ttbar = on", "Top:qqbar2ttbar = on", "24:onMode = off", "24:onIfAny = 1 2 3 4 5"),
    0: ("HardQCD:all = on",),
}
JET_R = 0.8
JET_PT_RANGE = (550.0, 650.0)  # GeV
JET_ABS_ETA_MAX = 2.0
MATCH_DELTA_R = 0.8
# jets kept per generated event (measured), only to size Pythia batches
_JETS_PER_EVENT = {1: 0.2, 0: 0.34}


def physics_record() -> dict:
    """The physics settings as manifest.json records them: Pythia's lines, the jet definition, library versions."""
    with needs_extra("generate"):
        import fastjet
        import pythia8mc

    return {
        "pythia": {str(k): list(PYTHIA_COMMON + v) for k, v in PYTHIA_PROCESS.items()},
        "jet": {"R": JET_R, "pt_range": list(JET_PT_RANGE), "abs_eta_max": JET_ABS_ETA_MAX},
        "versions": {"pythia8mc": _version("pythia8mc", pythia8mc), "fastjet": _version("fastjet", fastjet)},
    }


def _version(name: str, module) -> str:
    from importlib.metadata import version

    return getattr(module, "__version__", None) or version(name)


def make_pythia(label: int, seed: int):
    """A Pythia instance, initialised for signal (label 1) or QCD (label 0) with Random:seed = seed."""
    with needs_extra("generate"):
        import pythia8mc

    pythia = pythia8mc.Pythia("", False)  # False: no banner
    for line in (*PYTHIA_COMMON, *PYTHIA_PROCESS[label], f"Random:seed = {seed}"):
        if not pythia.readString(line):
            raise RuntimeError(f"Pythia rejected setting {line!r}")
    if not pythia.init():
        raise RuntimeError("Pythia failed to initialise")
    return pythia


def _charge_lookup(pythia) -> Callable[[np.ndarray], np.ndarray]:
    """Electric charge of PDG ids, asking Pythia's particle data once per id."""
    known: dict[int, float] = {}

    def charge(ids: np.ndarray) -> np.ndarray:
        unique, inverse = np.unique(ids, return_inverse=True)
        values = np.array([known.setdefault(int(i), pythia.particleData.charge(int(i))) for i in unique])
        return values[inverse] if len(unique) else np.zeros(0)

    return charge


# ---------------------------------------------------------------- the jet pipeline, step by step


def final_state(events: ak.Array, charge: Callable[[np.ndarray], np.ndarray]) -> Particles:
    """The stable particles of a Pythia batch, flattened: one entry per particle, with its event index.

    events: the batch from ``pythia.nextBatch`` (n_events events); charge: PDG ids
    to charges in e. Momenta and energies in GeV.
    """
    import awkward as ak

    final = events.prt[events.prt.status > 0]
    counts = ak.to_numpy(ak.num(final.id))
    ids = ak.to_numpy(ak.flatten(final.id))
    momenta = {c: ak.to_numpy(ak.flatten(getattr(final.p, c))) for c in ("px", "py", "pz", "e")}
    return Particles(event=np.repeat(np.arange(len(counts)), counts), pdg_id=ids, charge=charge(ids), **momenta)


def detector_objects(particles: Particles, n_events: int, rng: np.random.Generator) -> ak.Array:
    """The energy-flow objects the detector model makes of the particles; rng drives its smearing.

    Returns (n_events, var) records px, py, pz, E in GeV, grouped by event as FastJet takes them.
    """
    import awkward as ak

    flow = reconstruct(particles, rng)
    return ak.unflatten(
        ak.zip({"px": flow.px, "py": flow.py, "pz": flow.pz, "E": flow.e}),
        np.bincount(flow.event, minlength=n_events),
    )


def cluster(inputs: ak.Array) -> tuple[ak.Array, ak.Array]:
    """Anti-kT jets (R = JET_R) of each event, only those with pT above half the window's lower edge.

    Returns jets (n_events, var) records px, py, pz, E in GeV, and per jet the
    positions of its constituents in the event's inputs (n_events, var, var).
    """
    with needs_extra("generate"):
        import fastjet

    sequence = fastjet.ClusterSequence(inputs, fastjet.JetDefinition(fastjet.antikt_algorithm, JET_R))
    min_pt = 0.5 * JET_PT_RANGE[0]  # only jets that could lead in the window matter
    return sequence.inclusive_jets(min_pt=min_pt), sequence.constituent_index(min_pt=min_pt)


@dataclass(frozen=True)
class LeadingJets:
    """The highest-pT jet of each of n_events events; eta and phi are 0 where an event has no jet."""

    index: ak.Array  # (n_events, 1): its position in the event's jets, None where there is none
    eta: np.ndarray  # (n_events,)
    phi: np.ndarray  # (n_events,) in radians
    in_window: np.ndarray  # (n_events,) bool: pT within JET_PT_RANGE and |eta| < JET_ABS_ETA_MAX


def leading_jets(jets: ak.Array) -> LeadingJets:
    """The leading jet of each event of ``jets`` (n_events, var) and whether it lies in the window."""
    import awkward as ak

    index = ak.argmax(np.hypot(jets.px, jets.py), axis=1, keepdims=True)
    px, py, pz = (ak.to_numpy(ak.fill_none(ak.firsts(jets[c][index]), 0.0)) for c in ("px", "py", "pz"))
    pt = np.hypot(px, py)
    eta = np.arcsinh(np.divide(pz, pt, out=np.zeros_like(pt), where=pt > 0))
    in_window = (pt > JET_PT_RANGE[0]) & (pt < JET_PT_RANGE[1]) & (np.abs(eta) < JET_ABS_ETA_MAX)
    return LeadingJets(index, eta, np.arctan2(py, px), in_window)


def _delta_r(eta1: float, phi1: float, eta2: np.ndarray, phi2: np.ndarray) -> np.ndarray:
    return np.hypot(eta1 - eta2, np.angle(np.exp(1j * (phi1 - phi2))))


def _daughters(d1: int, d2: int) -> list[int]:
    """Pythia's daughter convention: a range when d2 > d1, else d1 (and d2 if set and different)."""
    if d2 > d1:
        return list(range(d1, d2 + 1))
    return [d for d in dict.fromkeys((d1, d2)) if d > 0]


def _matched_top(record: dict[str, np.ndarray], jet_eta: float, jet_phi: float) -> np.ndarray | None:
    """The (E, px, py, pz) of a top whose decay quarks all lie within Delta R < 0.8 of the jet, or None."""
    ids, d1, d2 = record["id"], record["daughter1"], record["daughter2"]
    px, py, pz, e = record["px"], record["py"], record["pz"], record["e"]

    def last_copy(i: int) -> int:
        while True:
            children = _daughters(d1[i], d2[i])
            if len(children) != 1 or ids[children[0]] != ids[i]:
                return i
            i = children[0]

    for top in np.flatnonzero(np.abs(ids) == 6):
        children = _daughters(d1[top], d2[top])
        if not children or any(abs(ids[c]) == 6 for c in children):
            continue  # not the last copy before the decay
        w = [last_copy(c) for c in children if abs(ids[c]) == 24]
        partons = [c for c in children if abs(ids[c]) == 5]
        if len(w) != 1 or len(partons) != 1:
            continue
        partons += [c for c in _daughters(d1[w[0]], d2[w[0]]) if abs(ids[c]) <= 5]
        objects = np.array([top, *partons])
        pt = np.hypot(px[objects], py[objects])
        eta = np.arcsinh(pz[objects] / np.maximum(pt, 1e-12))
        phi = np.arctan2(py[objects], px[objects])
        if len(partons) == 3 and np.all(_delta_r(jet_eta, jet_phi, eta, phi) < MATCH_DELTA_R):
            return np.array([e[top], px[top], py[top], pz[top]])
    return None


def truth_match(events: ak.Array, leading: LeadingJets) -> tuple[np.ndarray, np.ndarray]:
    """Which leading jets in the window hold a hadronic top, and that top.

    Returns matched (n_events,) bool and truth (n_events, 4) float64: the top's
    (E, px, py, pz) in GeV where matched, zeros elsewhere.
    """
    import awkward as ak

    matched = np.zeros(len(events), bool)
    truth = np.zeros((len(events), 4))
    candidates = np.flatnonzero(leading.in_window)
    # one conversion for all candidates, then plain NumPy slices per event
    prt = events.prt[candidates]
    offsets = np.concatenate([[0], np.cumsum(ak.to_numpy(ak.num(prt.id)))])
    columns = {f: ak.to_numpy(ak.flatten(prt[f])) for f in ("id", "daughter1", "daughter2")}
    columns.update({c: ak.to_numpy(ak.flatten(prt.p[c])) for c in ("px", "py", "pz", "e")})
    for k, i in enumerate(candidates):
        record = {f: v[offsets[k] : offsets[k + 1]] for f, v in columns.items()}
        top = _matched_top(record, leading.eta[i], leading.phi[i])
        if top is not None:
            matched[i] = True
            truth[i] = top
    return matched, truth


def padded_constituents(inputs: ak.Array, constituent_index: ak.Array, leading: LeadingJets, chosen: np.ndarray) -> np.ndarray:
    """The constituents of the chosen events' leading jets, pT-ordered, cut or zero-padded to 200.

    chosen: event indices. Returns (len(chosen), 200, 4) float32 (E, px, py, pz) in GeV.
    """
    import awkward as ak

    constituents = inputs[chosen][ak.firsts(constituent_index[leading.index][chosen])]
    order = ak.argsort(np.hypot(constituents.px, constituents.py), axis=1, ascending=False)
    constituents = ak.pad_none(constituents[order], ds.N_CONSTITUENTS, axis=1, clip=True)
    four_vectors = np.stack([ak.to_numpy(ak.fill_none(constituents[c], 0.0)) for c in ("E", "px", "py", "pz")], axis=-1)
    return four_vectors.reshape(len(chosen), ds.N_CONSTITUENTS, 4).astype(np.float32)


def jets_from_batch(
    events: ak.Array, label: int, charge: Callable[[np.ndarray], np.ndarray], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Leading jets in the window (and truth-matched, for signal) of one Pythia batch.

    Returns constituents (n, 200, 4) float32 (E, px, py, pz) in GeV, pT-ordered and
    zero-padded, and truth four-vectors (n, 4) float32: the top for signal, zeros for QCD.
    """
    inputs = detector_objects(final_state(events, charge), len(events), rng)
    jets, constituent_index = cluster(inputs)
    leading = leading_jets(jets)
    if label == 1:
        kept, truth = truth_match(events, leading)
    else:
        kept, truth = leading.in_window, np.zeros((len(events), 4))
    chosen = np.flatnonzero(kept)
    return padded_constituents(inputs, constituent_index, leading, chosen), truth[chosen].astype(np.float32)


def generate_jets(
    label: int,
    n_jets: int,
    pythia_seed: int,
    rng: np.random.Generator,
    on_jets: Callable[[int], object] | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """n_jets signal (label 1) or QCD (label 0) jets; rng drives the detector model.

    on_jets(n), if given, is called with the number of new jets after each Pythia batch.

    Returns constituents (n, 200, 4), truth (n, 4) and the number of Pythia
    events it took.
    """
    from keraslab.toptag.substructure import silence_fastjet_banner

    silence_fastjet_banner()
    pythia = make_pythia(label, pythia_seed)
    charge = _charge_lookup(pythia)
    found: list[tuple[np.ndarray, np.ndarray]] = []
    n_found = n_events = 0
    while n_found < n_jets:
        batch = min(1000, max(20, math.ceil((n_jets - n_found) / _JETS_PER_EVENT[label])))
        events = pythia.nextBatch(batch)
        constituents, truth = jets_from_batch(events, label, charge, rng)
        found.append((constituents, truth))
        if on_jets is not None:
            on_jets(min(len(constituents), n_jets - n_found))
        n_found += len(constituents)
        n_events += len(events)
    constituents = np.concatenate([c for c, _ in found])[:n_jets]
    truth = np.concatenate([t for _, t in found])[:n_jets]
    return constituents, truth, n_events
