"""The reference dataset's figures that ``keraslab toptag validate --reference`` checks our jets against.

Every figure here, and only here. The reference is the top-tagging reference
dataset (Kasieczka, Plehn, Thompson, Russell; Zenodo record 2603256; Pythia 8 +
Delphes ATLAS card, 550 < pT < 650 GeV, |eta| < 2). Its values were digitised
from histograms of its first 20 000 training jets in public notebooks, as
quoted in keraslab issue 10, which gives their digitisation uncertainty
(about +-3 GeV on masses, +-10 % on fractions) and the targets (centre +-
tolerance) that our jets must meet on >= 20 000 jets per class. Where issue 10
names a figure but no target (QCD mass p84, QCD fraction above 150 GeV), the
tolerance is twice the digitisation uncertainty, as for the QCD median and the
QCD fraction in [160, 190] GeV, whose targets issue 10 does give.

A user who has the Zenodo files can replace ``reference`` by exact values:
``keraslab toptag derive DIR`` then ``keraslab toptag validate DIR --reference``
measures the same quantities on them.
"""

from __future__ import annotations

from dataclasses import dataclass

ISSUE_10 = "top-tagging reference data (Zenodo 2603256), digitised, as quoted in keraslab issue 10"
NO_TARGET = "; no target in issue 10: tolerance = twice the digitisation uncertainty"
TOP_WINDOW = (160.0, 190.0)  # GeV: the mass window of the window fractions
QCD_HEAVY_MASS = 150.0  # GeV
MASS_ONLY_SIGNAL_EFFICIENCY = 0.3


@dataclass(frozen=True)
class ReferenceFigure:
    """One figure of the reference data and the target our jets must meet: |measured - target| <= tolerance."""

    key: str  # which measurement (keraslab.toptag.validation.REFERENCE_MEASUREMENTS)
    description: str
    reference: float  # the digitised value
    target: float
    tolerance: float
    unit: str
    source: str


FIGURES = (
    ReferenceFigure("top_mass_p16", "top-jet mass, 16th percentile", 156.0, 156.0, 4.0, "GeV", ISSUE_10),
    ReferenceFigure("top_mass_p50", "top-jet mass, median", 174.0, 174.0, 4.0, "GeV", ISSUE_10),
    ReferenceFigure("top_mass_p84", "top-jet mass, 84th percentile", 194.0, 194.0, 4.0, "GeV", ISSUE_10),
    ReferenceFigure("top_in_window", "top jets with mass in [160, 190] GeV", 0.59, 0.59, 0.05, "", ISSUE_10),
    ReferenceFigure("qcd_mass_p50", "QCD-jet mass, median", 82.0, 82.0, 6.0, "GeV", ISSUE_10),
    ReferenceFigure("qcd_mass_p84", "QCD-jet mass, 84th percentile", 146.0, 146.0, 6.0, "GeV", ISSUE_10 + NO_TARGET),
    ReferenceFigure("qcd_in_window", "QCD jets with mass in [160, 190] GeV", 0.059, 0.059, 0.012, "", ISSUE_10),
    ReferenceFigure("qcd_heavy", "QCD jets with mass above 150 GeV", 0.15, 0.15, 0.03, "", ISSUE_10 + NO_TARGET),
    ReferenceFigure("mass_rejection", "mass alone: 1/eps_B at eps_S = 0.3", 40.0, 40.0, 12.0, "", ISSUE_10),
    ReferenceFigure("mass_auc", "mass alone: AUC", 0.92, 0.92, 0.015, "", ISSUE_10),
    ReferenceFigure("multiplicity", "constituents per jet, mean (top and QCD)", 49.2, 49.0, 4.0, "", ISSUE_10),
)
MIN_JETS_PER_CLASS = 20_000  # issue 10: the targets hold on at least this many jets of each class
