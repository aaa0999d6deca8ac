"""Delphes' ATLAS card, ported to vectorised NumPy.

Source: ``cards/delphes_card_ATLAS.tcl`` of Delphes (github.com/delphes/delphes,
commit 0ee14ba7, 2026-04-20; the card's last change, d2cf547 of 2017-05-12,
only added muons to the tower collection, so it is the card of release 3.4.1
(2017-04-25) onwards, which the reference data used), and its modules
``ParticlePropagator``, ``Efficiency``, ``MomentumSmearing`` and
``SimpleCalorimeter`` (``modules/*.cc``; read at 3.4.1 and at 0ee14ba7, and
where they differ the 3.4.1 behaviour is ported and named). Delphes is not on
PyPI. This module follows the card's modules in order and turns stable
generator-level particles into energy-flow objects, the jet inputs of the
reference dataset (its Zenodo description: "particle-flow entries (produced
by Delphes E-flow)"):

0. Propagation (``ParticlePropagator``): charged particles follow a helix in
   the 2 T solenoid field to the calorimeters' inner surface (radius 1.15 m,
   half-length 3.51 m); their calorimeter cell is where they arrive
   (``Position``), their track keeps the direction at the vertex. Neutral
   particles fly straight.
1. Tracking efficiency (``Efficiency`` modules ``ChargedHadronTrackingEfficiency``,
   ``ElectronTrackingEfficiency``, ``MuonTrackingEfficiency``): by pT and |eta|
   of the arrival point (``Efficiency::Process`` reads ``Position.Eta()``),
   nothing at pT <= 0.1 GeV or beyond |eta| = 2.5.
2. Momentum smearing (``MomentumSmearing`` ``ChargedHadronMomentumSmearing``,
   ``ElectronMomentumSmearing``, ``MuonMomentumSmearing``): pT smeared
   log-normally with the card's relative resolution (at the arrival point's
   eta, capped at 1); tracks become massless, E = pT cosh eta (3.4.1:
   ``SetPtEtaPhiE(pt, eta, phi, pt*cosh(eta))``; since 2021 Delphes keeps
   the generator mass).
3. Two calorimeters (``SimpleCalorimeter`` ``ECal`` then ``HCal``), each with
   the card's own grid (``EtaPhiBins``), energy fractions per particle type
   (``EnergyFraction``) and resolution
   sigma(E)^2 = (constant E)^2 + stochastic^2 E + noise^2 (E in GeV) at the
   tower's centre. A tower's energy is smeared log-normally with sigma at its
   true energy; sigma is then evaluated again at the smeared energy, and the
   tower reads zero below EnergyMin or below EnergySignificanceMin x sigma
   (``SimpleCalorimeter::FinalizeTower``).
4. Energy flow (``FinalizeTower``): per tower, the tracks that end in it with
   a nonzero energy fraction there (electrons in the ECAL, charged hadrons in
   the HCAL) are compared with the tower's energy. A neutral object (photon
   from the ECAL, neutral hadron from the HCAL) is made from the excess only
   if it is above EnergyMin and above EnergySignificanceMin x
   sqrt(sigma_tracks^2 + sigma^2); otherwise the tower's tracks are rescaled
   to the inverse-variance weighted mean of the track and tower energies (a
   tower read as zero pulls its tracks down). Neutrals are massless, at a
   random position inside their cell (``SmearTowerCenter true``).

Muons reach no calorimeter (energy fraction 0) and stay plain tracks;
neutrinos leave nothing. docs/jets.md tabulates every number with the card's
value and the remaining differences.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TRACKER_ETA_MAX = 2.5
# ParticlePropagator: Radius, HalfLength (metres) and Bz (tesla)
CALO_RADIUS, CALO_HALF_LENGTH = 1.15, 3.51
MAGNETIC_FIELD = 2.0
_GEV_PER_TESLA_METRE = 0.299792458  # pT = 0.2998 |q| B R

# Efficiency modules' EfficiencyFormula: pT band lower edges (GeV; a band is
# (edge, next edge]) and the efficiency in each band for |eta| <= 1.5 and for
# 1.5 < |eta| <= 2.5; zero at pT <= 0.1 GeV and beyond |eta| = 2.5.
TRACK_EFFICIENCY = {
    "hadron": ((0.1, 1.0), (0.70, 0.95), (0.60, 0.85)),
    "electron": ((0.1, 1.0, 100.0), (0.73, 0.95, 0.99), (0.50, 0.83, 0.90)),
    "muon": ((0.1, 1.0), (0.75, 0.99), (0.70, 0.98)),
}
TRACK_EFFICIENCY_CENTRAL_ETA_MAX = 1.5
# MomentumSmearing ResolutionFormula: relative pT resolution sqrt(constant^2 + (per_gev pT)^2) for pT > 0.1 GeV,
# per |eta| band (upper edge, inclusive); zero beyond |eta| = 2.5; MomentumSmearing caps it at 1.
TRACK_PT_RESOLUTION = {
    "hadron": ((0.5, 0.06, 1.3e-3), (1.5, 0.10, 1.7e-3), (2.5, 0.25, 3.1e-3)),
    "electron": ((0.5, 0.03, 1.3e-3), (1.5, 0.05, 1.7e-3), (2.5, 0.15, 3.1e-3)),
    "muon": ((0.5, 0.01, 1.0e-4), (1.5, 0.015, 1.5e-4), (2.5, 0.025, 3.5e-4)),
}
TRACK_RESOLUTION_PT_MIN = 0.1
TRACK_RESOLUTION_MAX = 1.0

# EnergyFraction of the ECal by |PDG id| (default {0} 0.0); the HCal's is 1 - this (its default {0} is 1.0),
# except for the particles that neither sees (fraction 0 in both): neutrinos, muons, the lightest neutralinos
CALORIMETER_BLIND = (12, 13, 14, 16, 1000022, 1000023, 1000025, 1000035, 1000045)
ECAL_FRACTION = {11: 1.0, 22: 1.0, 111: 1.0, 310: 0.3, 3122: 0.3}
ENERGY_SIGNIFICANCE_MIN = 2.0  # EnergySignificanceMin of ECal and HCal


def _band_lookup(table: tuple, abs_eta: np.ndarray) -> np.ndarray:
    """Rows (|eta| upper edge, ...) of a resolution table for each |eta| (upper edges inclusive); zeros beyond the last."""
    rows = np.vstack([np.asarray(table, float), np.zeros(len(table[0]))])
    return rows[np.searchsorted(rows[:-1, 0], abs_eta, side="left")]


class Calorimeter:
    """One SimpleCalorimeter: a grid of cells in (eta, phi), its resolution and threshold.

    eta_edges: (n_bands + 1,) sorted cell edges in eta; phi_cells: (n_bands,)
    cells in phi in each eta band, equal in 2 pi from -pi; a cell is
    (lower edge, upper edge], as SimpleCalorimeter finds it with lower_bound.
    resolution: rows (|eta| upper edge, constant, stochastic, noise), sigma in
    GeV for E in GeV, evaluated at the cell's centre, zero beyond the last
    edge (the card's ResolutionFormula); energy_min: EnergyMin in GeV.
    """

    def __init__(self, eta_edges: np.ndarray, phi_cells: np.ndarray, resolution: tuple, energy_min: float):
        self.eta_edges = np.asarray(eta_edges, float)
        self.phi_cells = np.asarray(phi_cells, np.int64)
        self.resolution = np.asarray(resolution, float)
        self.energy_min = energy_min
        self.first_cell = np.concatenate([[0], np.cumsum(self.phi_cells)[:-1]])
        self.n_cells = int(self.phi_cells.sum())
        self.band_of_cell = np.repeat(np.arange(len(self.phi_cells)), self.phi_cells)
        self.phi_index_of_cell = np.arange(self.n_cells) - self.first_cell[self.band_of_cell]
        centre = 0.5 * (self.eta_edges[:-1] + self.eta_edges[1:])
        self._band_resolution = _band_lookup(self.resolution, np.abs(centre))  # rows per eta band

    def cell(self, eta: np.ndarray, phi: np.ndarray) -> np.ndarray:
        """Cell index of each direction (eta, phi in radians), -1 outside the calorimeter."""
        band = np.searchsorted(self.eta_edges, eta, side="left") - 1  # std::lower_bound, as Delphes
        inside = (band >= 0) & (band < len(self.phi_cells))
        band = np.clip(band, 0, len(self.phi_cells) - 1)
        n_phi = self.phi_cells[band]
        phi_index = np.clip(np.ceil((phi + np.pi) / (2 * np.pi) * n_phi).astype(np.int64) - 1, 0, n_phi - 1)
        return np.where(inside, self.first_cell[band] + phi_index, -1)

    def sigma(self, energy: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """Energy resolution in GeV of towers of energy (GeV) in the given cells."""
        row = self._band_resolution[self.band_of_cell[cells]]
        return np.sqrt((row[:, 1] * energy) ** 2 + row[:, 2] ** 2 * energy + row[:, 3] ** 2)

    def random_position(self, cells: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """A uniformly random (eta, phi) inside each cell, as SmearTowerCenter does."""
        band = self.band_of_cell[cells]
        eta = self.eta_edges[band] + rng.random(len(cells)) * np.diff(self.eta_edges)[band]
        phi = -np.pi + (self.phi_index_of_cell[cells] + rng.random(len(cells))) * (2 * np.pi / self.phi_cells[band])
        return eta, phi


def card_grid(*edge_lists: tuple[np.ndarray, int]) -> tuple[np.ndarray, np.ndarray]:
    """SimpleCalorimeter::Init on the card's ``add EtaPhiBins`` lines: (eta edges, phi cells per band).

    edge_lists: (eta values, cells in 2 pi) per group of lines. Delphes keeps
    a map from each eta edge to its phi edges; the band between two edges
    takes the phi cells of its upper edge. An edge given in two groups gets
    the finer phi cells (Delphes merges both sets of phi edges, and the
    coarser ones lie on the finer grid up to rounding).
    """
    eta = np.concatenate([np.asarray(values, float) for values, _ in edge_lists])
    cells = np.concatenate([np.full(len(values), n) for values, n in edge_lists])
    edges, inverse = np.unique(eta, return_inverse=True)  # exact doubles, as the std::map keys
    phi_cells = np.zeros(len(edges), np.int64)
    np.maximum.at(phi_cells, inverse, cells)
    return edges, phi_cells[1:]


# ECal EtaPhiBins, computed as the card's Tcl loops compute them (same doubles): 0.0174 x 1 degree in
# |eta| < 2.958 (barrel i x 0.0174, i = -85..86; endcaps -2.958 + i x 0.0174 and 1.4964 + i x 0.0174,
# i = 1..84), then the forward calorimeter's edges with 10-degree cells
_ECAL_FINE = np.concatenate([np.arange(-85, 87) * 0.0174, -2.958 + np.arange(1, 85) * 0.0174,
                             1.4964 + np.arange(1, 85) * 0.0174])
_ECAL_FORWARD = (-5, -4.7, -4.525, -4.35, -4.175, -4, -3.825, -3.65, -3.475, -3.3, -3.125, -2.958,
                 3.125, 3.3, 3.475, 3.65, 3.825, 4, 4.175, 4.35, 4.525, 4.7, 5)
# HCal EtaPhiBins: 0.1 x 10 degrees in |eta| < 2.5 (and the edges -3.2, 2.6, 3.3 with 10-degree cells), 20 degrees beyond
_HCAL_10_DEGREES = (-3.2, *np.round(np.arange(-25, 27) * 0.1, 10), 3.3)
_HCAL_20_DEGREES = (-4.9, -4.7, -4.5, -4.3, -4.1, -3.9, -3.7, -3.5, -3.3, -3, -2.8, -2.6,
                    2.8, 3, 3.2, 3.5, 3.7, 3.9, 4.1, 4.3, 4.5, 4.7, 4.9)

ECAL = Calorimeter(
    *card_grid((_ECAL_FINE, 360), (_ECAL_FORWARD, 36)),
    resolution=((3.2, 0.0017, 0.101, 0.0), (4.9, 0.0350, 0.285, 0.0)),
    energy_min=0.5,
)
HCAL = Calorimeter(
    *card_grid((_HCAL_10_DEGREES, 36), (_HCAL_20_DEGREES, 18)),
    resolution=((1.7, 0.0302, 0.5205, 1.59), (3.2, 0.0500, 0.706, 0.0), (4.9, 0.0942, 1.00, 0.0)),
    energy_min=1.0,
)


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
    """Reconstructed objects of many events, flattened and grouped by event; massless, GeV."""

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


def log_normal(mean: np.ndarray, sigma: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Delphes' LogNormal: random values with the given mean and standard deviation; 0 where mean <= 0."""
    positive = mean > 0
    safe_mean = np.where(positive, mean, 1.0)
    b = np.sqrt(np.log1p((sigma / safe_mean) ** 2))
    a = np.log(safe_mean) - 0.5 * b**2
    return np.where(positive, np.exp(a + b * rng.standard_normal(np.shape(mean))), 0.0)


def tracking_efficiency(kind: str, pt: np.ndarray, abs_eta: np.ndarray) -> np.ndarray:
    """The card's tracking efficiency of particles of one kind (hadron, electron, muon) at pT (GeV), |eta|."""
    pt_edges, central, forward = TRACK_EFFICIENCY[kind]
    band = np.searchsorted(pt_edges, pt, side="left") - 1  # Delphes: pt > edge, pt <= next edge
    by_band = np.where(abs_eta <= TRACK_EFFICIENCY_CENTRAL_ETA_MAX, np.asarray(central)[band], np.asarray(forward)[band])
    return np.where((band >= 0) & (abs_eta <= TRACKER_ETA_MAX), by_band, 0.0)


def track_resolution(kind: str, pt: np.ndarray, abs_eta: np.ndarray) -> np.ndarray:
    """Relative pT resolution of tracks of one kind (hadron, electron, muon), as MomentumSmearing uses it.

    The card's formula at pT (GeV) and |eta| (of the arrival point), capped at 1 as MomentumSmearing caps it.
    """
    row = _band_lookup(TRACK_PT_RESOLUTION[kind], abs_eta)
    resolution = np.where(pt > TRACK_RESOLUTION_PT_MIN, np.hypot(row[:, 1], row[:, 2] * pt), 0.0)
    return np.minimum(resolution, TRACK_RESOLUTION_MAX)


def calorimeter_entry(
    pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, charge: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where particles from the origin enter the calorimeters: (eta, phi) of the hit point, all (n,).

    pt in GeV, charge in e. Charged particles bend in the field (Bz > 0: positive
    charges turn clockwise seen from +z) and hit the barrel if their helix
    reaches CALO_RADIUS before |z| = CALO_HALF_LENGTH, otherwise an endcap;
    those that never arrive get eta = 99 (outside every calorimeter).
    """
    entry_eta, entry_phi = eta.copy(), phi.copy()
    bent = np.flatnonzero((charge != 0) & (pt > 0))
    radius = pt[bent] / (_GEV_PER_TESLA_METRE * np.abs(charge[bent]) * MAGNETIC_FIELD)  # metres
    sinh_eta = np.sinh(np.clip(eta[bent], -20.0, 20.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        turn_to_barrel = 2.0 * np.arcsin(np.minimum(CALO_RADIUS / (2.0 * radius), 1.0))
        z_barrel = radius * turn_to_barrel * sinh_eta
        barrel = (2.0 * radius >= CALO_RADIUS) & (np.abs(z_barrel) <= CALO_HALF_LENGTH)
        turn = np.where(barrel, turn_to_barrel, CALO_HALF_LENGTH / (radius * np.abs(sinh_eta)))
        rho = np.where(barrel, CALO_RADIUS, 2.0 * radius * np.abs(np.sin(0.5 * turn)))
        z = np.where(barrel, z_barrel, np.copysign(CALO_HALF_LENGTH, sinh_eta))
        arrives = np.isfinite(turn) & (rho > 0)
        entry_eta[bent] = np.where(arrives, np.arcsinh(z / rho), 99.0)
    turned = phi[bent] - np.sign(charge[bent]) * 0.5 * np.where(arrives, turn, 0.0)
    entry_phi[bent] = np.mod(turned + np.pi, 2 * np.pi) - np.pi
    return entry_eta, entry_phi


def ecal_fraction(abs_id: np.ndarray) -> np.ndarray:
    """The ECal's share of each particle's energy (the HCal's is 1 - this, except for blind particles)."""
    fraction = np.zeros(len(abs_id))
    for pdg, value in ECAL_FRACTION.items():
        fraction[abs_id == pdg] = value
    return fraction


@dataclass(frozen=True)
class _Tracks:
    event: np.ndarray
    pt: np.ndarray  # smeared, GeV
    eta: np.ndarray  # direction at the vertex
    phi: np.ndarray
    entry_eta: np.ndarray  # where the particle enters the calorimeters
    entry_phi: np.ndarray
    resolution: np.ndarray  # relative, Delphes' TrackResolution
    ecal_fraction: np.ndarray
    hcal_fraction: np.ndarray


def _tracks(p: Particles, pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, entry: tuple[np.ndarray, np.ndarray],
            abs_id: np.ndarray, ecal: np.ndarray, hcal: np.ndarray, rng: np.random.Generator) -> _Tracks:
    """Found and smeared charged particles: efficiency, then log-normal smearing of pT.

    pt, eta, phi, entry (eta, phi), abs_id, ecal, hcal: (n,) per particle, as
    reconstruct computes them. Efficiency and resolution are evaluated at the
    arrival point's eta (Efficiency and MomentumSmearing read
    ``Position.Eta()``), the smeared track keeps the vertex direction.
    """
    charged = np.flatnonzero(p.charge != 0)
    charged_pt, entry_abs_eta, charged_id = pt[charged], np.abs(entry[0][charged]), abs_id[charged]
    kinds = {"electron": charged_id == 11, "muon": charged_id == 13, "hadron": (charged_id != 11) & (charged_id != 13)}
    efficiency = np.zeros(len(charged))
    resolution = np.zeros(len(charged))
    for kind, mine in kinds.items():
        efficiency[mine] = tracking_efficiency(kind, charged_pt[mine], entry_abs_eta[mine])
        resolution[mine] = track_resolution(kind, charged_pt[mine], entry_abs_eta[mine])
    found = rng.random(len(charged)) < efficiency
    smeared_pt = log_normal(charged_pt[found], resolution[found] * charged_pt[found], rng)
    particle = charged[found]
    return _Tracks(p.event[particle], smeared_pt, eta[particle], phi[particle], entry[0][particle], entry[1][particle],
                   resolution[found], ecal[particle], hcal[particle])


def below_threshold(energy: np.ndarray, sigma: np.ndarray, energy_min: float) -> np.ndarray:
    """FinalizeTower: a tower reads zero below EnergyMin or below EnergySignificanceMin x sigma (both GeV)."""
    return (energy < energy_min) | (energy < ENERGY_SIGNIFICANCE_MIN * sigma)


def tower_energy_flow(
    energy: np.ndarray, sigma: np.ndarray, tracks_energy: np.ndarray, tracks_variance: np.ndarray, energy_min: float
) -> tuple[np.ndarray, np.ndarray]:
    """FinalizeTower's energy flow on measured towers, all (n_towers,), GeV.

    energy: the tower's energy after smearing and threshold; sigma: its
    resolution at that (smeared, not zeroed) energy; tracks_energy and
    tracks_variance: sum of E and of (resolution x E)^2 of the tracks that end
    in it with a nonzero energy fraction. Returns the neutral object's energy
    (0 where none is made) and the factor for the tower's tracks (1 where a
    neutral is made or there are no tracks).
    """
    excess = np.maximum(energy - tracks_energy, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        significance = excess / np.sqrt(tracks_variance + sigma**2)
    neutral = (excess > energy_min) & (significance > ENERGY_SIGNIFICANCE_MIN)
    track_weight = np.divide(1.0, tracks_variance, out=np.zeros_like(sigma), where=tracks_variance > 0)
    calo_weight = np.divide(1.0, sigma**2, out=np.zeros_like(sigma), where=sigma > 0)
    rescale = ~neutral & (tracks_energy > 0)
    best = np.divide(track_weight * tracks_energy + calo_weight * energy, track_weight + calo_weight,
                     out=tracks_energy.copy(), where=rescale)
    scale = np.divide(best, tracks_energy, out=np.ones_like(best), where=rescale)
    return np.where(neutral, excess, 0.0), scale


def _energy_flow(
    calorimeter: Calorimeter,
    deposit_event: np.ndarray,
    deposit_eta: np.ndarray,
    deposit_phi: np.ndarray,
    deposit: np.ndarray,
    tracks: _Tracks,
    track_fraction: np.ndarray,
    track_energy: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """One SimpleCalorimeter: towers, thresholds and energy flow.

    deposit: (n,) energy each particle leaves in this calorimeter (GeV);
    track_fraction: (n_tracks,) each track's energy fraction here (tracks with
    fraction 0 pass untouched); track_energy: (n_tracks,) massless track
    energies (GeV). Returns the factor (n_tracks,) by which each track's
    momentum is rescaled, and the neutral objects (event, E, eta, phi).
    """
    depositing = np.flatnonzero(deposit > 0)
    depositing_cell = calorimeter.cell(deposit_eta[depositing], deposit_phi[depositing])
    inside = depositing_cell >= 0
    hit, hit_cell = depositing[inside], depositing_cell[inside]
    matched = np.flatnonzero(track_fraction > 1e-9)
    track_cell = calorimeter.cell(tracks.entry_eta[matched], tracks.entry_phi[matched])
    matched, track_cell = matched[track_cell >= 0], track_cell[track_cell >= 0]  # none outside while |eta| <= 2.5
    keys = np.concatenate([deposit_event[hit] * calorimeter.n_cells + hit_cell,
                           tracks.event[matched] * calorimeter.n_cells + track_cell])
    towers, tower_of = np.unique(keys, return_inverse=True)
    deposit_tower, track_tower = tower_of[: len(hit)], tower_of[len(hit):]

    def per_tower(tower: np.ndarray, values: np.ndarray) -> np.ndarray:
        return np.bincount(tower, weights=values, minlength=len(towers)).astype(float)  # float even when empty

    true_energy = per_tower(deposit_tower, deposit[hit])
    matched_energy = track_energy[matched]
    tracks_energy = per_tower(track_tower, matched_energy * track_fraction[matched])
    tracks_variance = per_tower(track_tower, (tracks.resolution[matched] * matched_energy) ** 2)

    cells = towers % calorimeter.n_cells
    energy = log_normal(true_energy, calorimeter.sigma(true_energy, cells), rng)
    sigma = calorimeter.sigma(energy, cells)  # FinalizeTower evaluates it again at the smeared energy
    energy = np.where(below_threshold(energy, sigma, calorimeter.energy_min), 0.0, energy)
    excess, tower_scale = tower_energy_flow(energy, sigma, tracks_energy, tracks_variance, calorimeter.energy_min)
    neutral = excess > 0
    track_scale = np.ones(len(tracks.pt))
    track_scale[matched] = tower_scale[track_tower]

    neutral_eta, neutral_phi = calorimeter.random_position(cells[neutral], rng)
    return track_scale, (towers[neutral] // calorimeter.n_cells, excess[neutral], neutral_eta, neutral_phi)


def reconstruct(particles: Particles, rng: np.random.Generator) -> EnergyFlow:
    """The ATLAS card's tracking, calorimeters and energy flow on stable particles of many events at once."""
    p = particles
    abs_id = np.abs(p.pdg_id)
    pt, eta, phi = _pt_eta_phi(p.px, p.py, p.pz)
    blind = np.isin(abs_id, CALORIMETER_BLIND)
    ecal = np.where(blind, 0.0, ecal_fraction(abs_id))
    hcal = np.where(blind, 0.0, 1.0 - ecal)

    entry_eta, entry_phi = calorimeter_entry(pt, eta, phi, p.charge)
    tracks = _tracks(p, pt, eta, phi, (entry_eta, entry_phi), abs_id, ecal, hcal, rng)
    track_pt = tracks.pt
    neutrals = []
    for calorimeter, deposit_fraction, track_fraction in ((ECAL, ecal, tracks.ecal_fraction), (HCAL, hcal, tracks.hcal_fraction)):
        # the HCal sees the tracks as the ECal's energy flow left them (Delphes: HCal/TrackInputArray = ECal/eflowTracks)
        scale, objects = _energy_flow(calorimeter, p.event, entry_eta, entry_phi, p.e * deposit_fraction, tracks, track_fraction,
                                      track_pt * np.cosh(tracks.eta), rng)
        track_pt = track_pt * scale
        neutrals.append(objects)

    neutral_event, neutral_e, neutral_eta, neutral_phi = (np.concatenate(columns) for columns in zip(*neutrals))
    all_pt = np.concatenate([track_pt, neutral_e / np.cosh(neutral_eta)])
    all_eta = np.concatenate([tracks.eta, neutral_eta])
    all_phi = np.concatenate([tracks.phi, neutral_phi])
    event = np.concatenate([tracks.event, neutral_event])
    order = np.argsort(event, kind="stable")
    return EnergyFlow(
        event=event[order],
        px=(all_pt * np.cos(all_phi))[order],
        py=(all_pt * np.sin(all_phi))[order],
        pz=(all_pt * np.sinh(all_eta))[order],
        e=(all_pt * np.cosh(all_eta))[order],
        is_track=np.concatenate([np.ones(len(track_pt), bool), np.zeros(len(neutral_e), bool)])[order],
    )
