"""A small detector model standing in for Delphes (not installable from PyPI).

It turns stable generator-level particles into energy-flow objects, the jet
inputs of the reference dataset, following Delphes' ATLAS card in spirit:

* Tracker (|eta| < 2.5): charged particles with pT > 0.5 GeV are found with
  efficiency 95 % (|eta| < 1.5) or 85 % (1.5 < |eta| < 2.5); their momentum is
  scaled by a Gaussian factor of relative width 1 % (+) 0.05 % x pT/GeV.
* Calorimeter (|eta| < 4.9): every visible particle except muons deposits its
  energy in towers of Delta eta x Delta phi = 0.1 x 0.1: photons and
  electrons in the electromagnetic part (resolution, E in GeV,
  sigma^2 = (0.0017 E)^2 + 0.101^2 E), hadrons in the hadronic part
  (sigma^2 = (0.0302 E)^2 + 0.5205^2 E + 1.59^2): the ATLAS card's values.
* Energy flow: tracks, plus per tower what the calorimeter saw beyond the
  tracked particles' energy (electromagnetic part minus tracked electrons,
  hadronic part minus tracked hadrons), kept above 0.5 GeV (electromagnetic)
  and 1 GeV (hadronic) as massless objects at the tower centre. Calorimeter
  fluctuations around tracked particles thus leave neutral objects, as in
  Delphes. Neutrinos leave nothing; muons leave only tracks.

Differences from Delphes (see docs/jets.md): one tower size everywhere, no
magnetic field, no separate ECAL/HCAL segmentation, Gaussian (not
log-normal) smearing, no isolation or identification efficiencies, no pile-up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TRACKER_ETA_MAX = 2.5
TRACK_PT_MIN = 0.5  # GeV
TRACK_EFFICIENCY_CENTRAL = 0.95  # |eta| < 1.5
TRACK_EFFICIENCY_FORWARD = 0.85  # 1.5 < |eta| < 2.5
TRACK_RESOLUTION_CONSTANT = 0.01
TRACK_RESOLUTION_PER_GEV = 5e-4

CALO_ETA_MAX = 4.9
TOWER_SIZE = 0.1  # in eta; phi uses the nearest size that divides 2 pi
N_ETA_TOWERS = int(round(2 * CALO_ETA_MAX / TOWER_SIZE))
N_PHI_TOWERS = int(round(2 * np.pi / TOWER_SIZE))
# sigma^2 = (constant E)^2 + stochastic^2 E + noise^2, E in GeV (Delphes ATLAS card)
EM_CONSTANT, EM_STOCHASTIC, EM_NOISE = 0.0017, 0.101, 0.0
HAD_CONSTANT, HAD_STOCHASTIC, HAD_NOISE = 0.0302, 0.5205, 1.59
EM_FLOW_MIN, HAD_FLOW_MIN = 0.5, 1.0  # GeV

_NEUTRINOS = (12, 14, 16)
_ELECTROMAGNETIC = (11, 22)
_MUON = 13


@dataclass(frozen=True)
class Particles:
    """Stable particles of many events, flattened; momenta and energies in GeV."""

    event: np.ndarray  # event index of each particle, non-decreasing
    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    e: np.ndarray
    pdg_id: np.ndarray
    charge: np.ndarray  # electric charge in units of e


@dataclass(frozen=True)
class EnergyFlow:
    """Reconstructed objects of many events, flattened and grouped by event."""

    event: np.ndarray
    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    e: np.ndarray
    is_track: np.ndarray  # True for tracks, False for calorimeter objects


def _pt_eta_phi(px: np.ndarray, py: np.ndarray, pz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pt = np.hypot(px, py)
    # particles along the beam (pt = 0) get |eta| = 99: outside every detector
    eta = np.arcsinh(np.divide(pz, pt, out=np.copysign(np.full_like(pz, 1e43), pz), where=pt > 0))
    return pt, np.clip(eta, -99.0, 99.0), np.arctan2(py, px)


def _smear(
    energy: np.ndarray, constant: float, stochastic: float, noise: float, rng: np.random.Generator
) -> np.ndarray:
    """Gaussian resolution sigma^2 = (constant E)^2 + stochastic^2 E + noise^2 where energy > 0, clipped at 0."""
    sigma = np.sqrt((constant * energy) ** 2 + stochastic**2 * energy + noise**2) * (energy > 0)
    return np.maximum(energy + sigma * rng.standard_normal(energy.shape), 0.0)


def reconstruct(particles: Particles, rng: np.random.Generator) -> EnergyFlow:
    """Apply the tracker and calorimeter model to stable particles of many events at once."""
    p = particles
    abs_id = np.abs(p.pdg_id)
    visible = ~np.isin(abs_id, _NEUTRINOS)
    pt, eta, phi = _pt_eta_phi(p.px, p.py, p.pz)
    abs_eta = np.abs(eta)

    charged = visible & (p.charge != 0)
    efficiency = np.where(abs_eta < 1.5, TRACK_EFFICIENCY_CENTRAL, TRACK_EFFICIENCY_FORWARD)
    tracked = (
        charged & (abs_eta < TRACKER_ETA_MAX) & (pt > TRACK_PT_MIN) & (rng.random(pt.shape) < efficiency)
    )
    scale = 1.0 + np.hypot(TRACK_RESOLUTION_CONSTANT, TRACK_RESOLUTION_PER_GEV * pt) * rng.standard_normal(pt.shape)
    scale = np.maximum(scale[tracked], 0.0)
    track_px, track_py, track_pz = p.px[tracked] * scale, p.py[tracked] * scale, p.pz[tracked] * scale
    mass_squared = np.maximum(p.e**2 - p.px**2 - p.py**2 - p.pz**2, 0.0)[tracked]
    track_e = np.sqrt(track_px**2 + track_py**2 + track_pz**2 + mass_squared)

    in_calo = visible & (abs_id != _MUON) & (abs_eta < CALO_ETA_MAX)
    electromagnetic = np.isin(abs_id, _ELECTROMAGNETIC)
    ieta = np.clip(((eta + CALO_ETA_MAX) / TOWER_SIZE).astype(np.int64), 0, N_ETA_TOWERS - 1)
    iphi = np.clip(((phi + np.pi) / (2 * np.pi) * N_PHI_TOWERS).astype(np.int64), 0, N_PHI_TOWERS - 1)
    key = (p.event.astype(np.int64) * N_ETA_TOWERS + ieta) * N_PHI_TOWERS + iphi
    towers, which = np.unique(key[in_calo], return_inverse=True)
    tower_of = np.full(len(key), -1)
    tower_of[in_calo] = which

    def per_tower(selection: np.ndarray, energy: np.ndarray) -> np.ndarray:
        return np.bincount(tower_of[selection], weights=energy, minlength=len(towers))

    em = _smear(per_tower(in_calo & electromagnetic, p.e[in_calo & electromagnetic]), EM_CONSTANT, EM_STOCHASTIC, EM_NOISE, rng)
    had = _smear(per_tower(in_calo & ~electromagnetic, p.e[in_calo & ~electromagnetic]), HAD_CONSTANT, HAD_STOCHASTIC, HAD_NOISE, rng)
    # what the calorimeter saw beyond the tracks: tracked particles lie in the calorimeter (|eta| < 2.5)
    em_flow = em - per_tower(tracked & electromagnetic, track_e[electromagnetic[tracked]])
    had_flow = had - per_tower(tracked & ~electromagnetic & in_calo, track_e[(~electromagnetic & in_calo)[tracked]])
    tower_index = np.concatenate([np.flatnonzero(em_flow > EM_FLOW_MIN), np.flatnonzero(had_flow > HAD_FLOW_MIN)])
    tower_e = np.concatenate([em_flow[em_flow > EM_FLOW_MIN], had_flow[had_flow > HAD_FLOW_MIN]])
    cells = towers[tower_index]
    tower_event = cells // (N_ETA_TOWERS * N_PHI_TOWERS)
    tower_eta = -CALO_ETA_MAX + ((cells // N_PHI_TOWERS) % N_ETA_TOWERS + 0.5) * TOWER_SIZE
    tower_phi = -np.pi + (cells % N_PHI_TOWERS + 0.5) * (2 * np.pi / N_PHI_TOWERS)
    tower_pt = tower_e / np.cosh(tower_eta)

    event = np.concatenate([p.event[tracked], tower_event])
    order = np.argsort(event, kind="stable")
    return EnergyFlow(
        event=event[order],
        px=np.concatenate([track_px, tower_pt * np.cos(tower_phi)])[order],
        py=np.concatenate([track_py, tower_pt * np.sin(tower_phi)])[order],
        pz=np.concatenate([track_pz, tower_pt * np.sinh(tower_eta)])[order],
        e=np.concatenate([track_e, tower_e])[order],
        is_track=np.concatenate([np.ones(len(track_e), bool), np.zeros(len(tower_e), bool)])[order],
    )
